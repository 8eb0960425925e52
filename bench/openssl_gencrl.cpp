#include "bench/openssl_gencrl.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include "bench/child_process.h"

namespace signet::bench {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

namespace fs = std::filesystem;

// index.txt dates: UTCTime "YYMMDDHHMMSSZ"; keyTime's: GeneralizedTime "YYYYMMDDHHMMSSZ".
std::string format_time(base::TimePoint time, const char* format) {
  const std::time_t t = base::to_unix_seconds(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

// OpenSSL's spelling in index.txt (apps/ca.c crl_reasons); privilegeWithdrawn has none.
const char* reason_name(int reason) {
  switch (reason) {
    case 1:
      return "keyCompromise";
    case 2:
      return "CACompromise";
    case 3:
      return "affiliationChanged";
    case 5:
      return "cessationOfOperation";
    default:
      return "superseded";
  }
}

std::string revocation_field(const ca::Revocation& revocation) {
  std::string field = format_time(revocation.revoked_at, "%y%m%d%H%M%SZ");
  if (revocation.invalidity_date) {
    field += ",keyTime," + format_time(*revocation.invalidity_date, "%Y%m%d%H%M%SZ");
  } else if (revocation.reason != 0) {
    field += ",";
    field += reason_name(revocation.reason);
  }
  return field;
}

Result<void> write_index(const FixtureShape& shape, const fs::path& dir) {
  std::ofstream index(dir / "index.txt");
  ca::CaRecord ca;
  ca.name = shape.ca_name;
  for (std::uint64_t i = 0; i < shape.issued(); ++i) {
    const auto record = fixture_record(shape, ca, i);
    std::string serial = record.serial.to_hex();
    if (serial.size() % 2 != 0) serial.insert(0, "0");
    index << (record.revocation ? "R\t" : "V\t") << format_time(record.not_after, "%y%m%d%H%M%SZ")
          << '\t' << (record.revocation ? revocation_field(*record.revocation) : "") << '\t'
          << serial << "\tunknown\t/CN=" << record.common_name << "/O=Signet Bench\n";
  }
  std::ofstream(dir / "index.txt.attr") << "unique_subject = no\n";
  std::ofstream(dir / "crlnumber") << "01\n";
  index.close();
  if (!index) return Error(ErrorCode::kIoError, "cannot write " + (dir / "index.txt").string());
  return base::ok();
}

Result<void> write_config(const fs::path& dir) {
  std::ofstream config(dir / "ca.cnf");
  config << "[ ca ]\ndefault_ca = bench\n\n[ bench ]\n"
         << "database = " << (dir / "index.txt").string() << "\n"
         << "certificate = " << (dir / "ca.pem").string() << "\n"
         << "private_key = " << (dir / "ca.key").string() << "\n"
         << "crlnumber = " << (dir / "crlnumber").string() << "\n"
         << "new_certs_dir = " << dir.string() << "\n"
         << "default_md = sha256\ndefault_crl_days = 1\nunique_subject = no\n"
         << "crl_extensions = crl_ext\n\n[ crl_ext ]\n"
         << "authorityKeyIdentifier = keyid:always\n";
  config.close();
  if (!config) return Error(ErrorCode::kIoError, "cannot write " + (dir / "ca.cnf").string());
  return base::ok();
}

Result<void> run_ok(const std::vector<std::string>& argv) {
  SIGNET_ASSIGN_OR_RETURN(auto run, run_child(argv));
  if (run.exit_status != 0) {
    return Error(ErrorCode::kInternal,
                 argv[0] + " " + argv[1] + " exited with " + std::to_string(run.exit_status));
  }
  return base::ok();
}

std::vector<std::string> key_options(base::KeyAlgorithm algorithm) {
  switch (algorithm) {
    case base::KeyAlgorithm::kEcP256:
      return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"};
    case base::KeyAlgorithm::kEcP384:
      return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"};
    case base::KeyAlgorithm::kRsa3072:
      return {"-newkey", "rsa:3072"};
    case base::KeyAlgorithm::kRsa4096:
      return {"-newkey", "rsa:4096"};
    case base::KeyAlgorithm::kEd25519:
      return {"-newkey", "ed25519"};
    default:
      return {"-newkey", "rsa:2048"};
  }
}

}  // namespace

Result<OpensslGencrl> time_openssl_gencrl(const FixtureShape& shape, const fs::path& dir,
                                          const std::string& self) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(ErrorCode::kIoError, "cannot create " + dir.string() + ": " + ec.message());
  OpensslGencrl result;
  std::vector<std::string> req = {"openssl", "req",
                                  "-x509",   "-nodes",
                                  "-days",   "3650",
                                  "-subj",   "/CN=Signet CRL Bench CA/O=Signet Bench",
                                  "-keyout", (dir / "ca.key").string(),
                                  "-out",    (dir / "ca.pem").string()};
  for (auto& option : key_options(shape.algorithm)) req.push_back(std::move(option));
  SIGNET_TRY(run_ok(req));
  const auto start = std::chrono::steady_clock::now();
  SIGNET_TRY(write_index(shape, dir));
  result.index_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  SIGNET_TRY(write_config(dir));
  SIGNET_ASSIGN_OR_RETURN(auto run, run_measured(self, {"openssl", "ca", "-gencrl", "-batch",
                                                        "-config", (dir / "ca.cnf").string(),
                                                        "-out", (dir / "crl.pem").string()}));
  if (run.exit_status != 0) {
    return Error(ErrorCode::kInternal,
                 "openssl ca -gencrl exited with " + std::to_string(run.exit_status));
  }
  result.seconds = run.seconds;
  result.maxrss_kb = run.maxrss_kb;
  result.pem_bytes = fs::file_size(dir / "crl.pem", ec);
  return result;
}

}  // namespace signet::bench
