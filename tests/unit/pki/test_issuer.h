// A self-signed CA and the certificates it issues, made through TbsTemplate with software keys:
// what the CRL and OCSP tests sign with and ask about.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "pki/digest.h"
#include "pki/name.h"
#include "pki/pem.h"
#include "pki/tbs_certificate.h"
#include "tests/support/software_signer.h"

namespace signet::pki::testing {

inline base::TimePoint utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / m / d} + std::chrono::hours(hh) +
         std::chrono::minutes(mm) + std::chrono::seconds(ss);
}

inline base::TimePoint now_seconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

struct TestCa {
  std::shared_ptr<test::SoftwareSigner> signer;
  IssuerFields fields;  // name, AKI (= the CA's SKI), key algorithm and digest
  base::Bytes cert_der;
  std::string pem() const { return pem_encode("CERTIFICATE", cert_der); }
};

// Signs `subject` as `issuer` and returns the certificate DER.
inline base::Bytes issue_certificate(const IssuerFields& issuer, const base::Signer& signer,
                                     const SubjectFields& subject) {
  auto tbs_template = TbsTemplate::create(issuer);
  REQUIRE(tbs_template);
  auto tbs = tbs_template->encode(subject);
  REQUIRE(tbs);
  auto signature = signer.sign(*tbs);
  REQUIRE(signature);
  return assemble_signed(*tbs, tbs_template->signature_algorithm_der(), *signature);
}

inline TestCa make_test_ca(base::KeyAlgorithm algorithm, const std::string& name) {
  TestCa ca;
  ca.signer = test::SoftwareSigner::generate(algorithm).value();
  ca.fields.key_algorithm = algorithm;
  ca.fields.digest = base::default_digest(algorithm);
  ca.fields.issuer_name_der = parse_distinguished_name(name).value();
  ca.fields.authority_key_identifier = key_identifier(ca.signer->public_key_der()).value();
  SubjectFields root;
  root.serial = SerialNumber::from_hex("01").value();
  root.subject_name_der = ca.fields.issuer_name_der;
  root.not_before = now_seconds() - std::chrono::hours(24);
  root.not_after = utc(2060, 1, 1);
  root.public_key_der = ca.signer->public_key_der();
  root.is_ca = true;
  root.key_usage = kKeyCertSign | kCrlSign | kDigitalSignature;
  root.subject_key_identifier = ca.fields.authority_key_identifier;
  ca.cert_der = issue_certificate(ca.fields, *ca.signer, root);
  return ca;
}

struct TestLeaf {
  std::shared_ptr<test::SoftwareSigner> signer;
  base::Bytes cert_der;
  std::string pem() const { return pem_encode("CERTIFICATE", cert_der); }
};

inline TestLeaf make_test_leaf(const TestCa& ca, const std::string& serial_hex,
                               const std::string& name,
                               const std::vector<std::string>& extended_key_usage = {},
                               bool ocsp_no_check = false) {
  TestLeaf leaf;
  leaf.signer = test::SoftwareSigner::generate(base::KeyAlgorithm::kEcP256).value();
  SubjectFields subject;
  subject.serial = SerialNumber::from_hex(serial_hex).value();
  subject.subject_name_der = parse_distinguished_name(name).value();
  subject.not_before = now_seconds() - std::chrono::hours(1);
  subject.not_after = now_seconds() + std::chrono::hours(24 * 30);
  subject.public_key_der = leaf.signer->public_key_der();
  subject.key_usage = kDigitalSignature;
  subject.extended_key_usage = extended_key_usage;
  subject.subject_key_identifier = key_identifier(subject.public_key_der).value();
  subject.ocsp_no_check = ocsp_no_check;
  leaf.cert_der = issue_certificate(ca.fields, *ca.signer, subject);
  return leaf;
}

}  // namespace signet::pki::testing
