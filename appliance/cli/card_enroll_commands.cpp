// signet card enroll | renew | rekey | show: a token holder's keys and certificates on a smart
// card (token/card_enrollment.h), through the local store and CA. The card's PIN comes from
// --card-pin-file (mode 0600), one line of standard input (--pin-stdin), or a terminal prompt;
// never from argv.
#include <cstdio>
#include <iostream>
#include <memory>

#include "appliance/cli/card_support.h"
#include "appliance/cli/cert_support.h"
#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "pki/certificate.h"
#include "store/lmdb_store.h"
#include "token/card_enrollment.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

struct EnrollOptions {
  CardCommonOptions card;
  std::string profile, ca, key, subject, slot, out, id, management_key_file;
  std::uint64_t resubmit = 0;
  std::vector<std::string> sans;
  int validity_days = 0;
  long timeout = 600;
  bool revoke_previous = false;
};

Result<std::unique_ptr<token::CardEnrollment>> open_enrollment(ApplianceContext& ctx,
                                                               const EnrollOptions& o,
                                                               CardSession& session) {
  SIGNET_TRY(ctx.service());  // fails the orders a killed process left behind
  SIGNET_ASSIGN_OR_RETURN(auto* authority, ctx.authority());
  SIGNET_ASSIGN_OR_RETURN(auto* records, ctx.store());
  // One state per PKCS#11 library in a process: a card module that is also the appliance's
  // (a SoftHSM stand-in) is shared, not loaded twice.
  SIGNET_ASSIGN_OR_RETURN(auto* module, ctx.module());
  session.modules.adopt(module->shared_from_this());
  token::EnrollmentEnvironment environment{
      *authority,  ca::RecordStores{*records, *records, *records, *records, *records, *records},
      ctx.clock(), ctx.rng(),
      ctx.actor(), ctx.worker()};
  token::CardSelection selection;
  selection.reader = o.card.reader;
  selection.key_slot = o.slot;
  selection.key_generation_timeout = std::chrono::seconds(o.timeout);
  selection.management_key = session.management_key_source(o.management_key_file);
  return token::CardEnrollment::open(std::move(environment), session.map, session.modules,
                                     selection, session.pin_source(), print_progress);
}

Result<std::optional<base::KeyAlgorithm>> algorithm_of(const std::string& name) {
  if (name.empty()) return std::optional<base::KeyAlgorithm>();
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, base::parse_key_algorithm(name));
  return std::optional<base::KeyAlgorithm>(algorithm);
}

Result<void> show_outcome(ApplianceContext& ctx, const token::CardEnrollment& card,
                          const token::CardOutcome& outcome, const std::string& out,
                          const std::string& verb) {
  const auto now = ctx.clock().now();
  const auto& record = outcome.result.certificate;
  SIGNET_ASSIGN_OR_RETURN(auto certificate, pki::Certificate::from_der(record.der));
  if (!out.empty()) SIGNET_TRY(write_output(out, base::as_bytes(certificate.pem())));
  if (ctx.json()) {
    json j = {{"reader", card.reader()},
              {"token", token_json(card.card().token)},
              {"type", card.type().name},
              {"key_uri", outcome.key_uri},
              {"objects_written", outcome.written},
              {"objects_removed", outcome.removed},
              {"warnings", outcome.warnings},
              {"certificate", certificate_json(record, now)},
              {"order", order_json(outcome.result.order, now)},
              {"pem", certificate.pem()}};
    print_json(j);
    return base::ok();
  }
  std::printf("%s certificate %s for '%s' on %s in reader '%s' (order %llu).\n", verb.c_str(),
              record.serial.to_hex().c_str(), record.subject.c_str(),
              card.card().token.describe().c_str(), card.reader().c_str(),
              static_cast<unsigned long long>(outcome.result.order.id));
  print_certificate(record, now);
  std::printf("Key on card:           %s\n", outcome.key_uri.c_str());
  for (const auto& label : outcome.written)
    std::printf("Written to card:       %s\n", label.c_str());
  for (const auto& what : outcome.removed) std::printf("Removed from card:     %s\n", what.c_str());
  for (const auto& w : outcome.warnings) std::printf("Warning:               %s\n", w.c_str());
  for (const auto& w : outcome.result.order.warnings) {
    std::printf("Warning (soft-fail):   %s\n", w.c_str());
  }
  if (!out.empty()) std::printf("Certificate written to %s\n", out.c_str());
  return base::ok();
}

Result<void> resubmit(ApplianceContext& ctx, const EnrollOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto session, CardSession::create(ctx, o.card));
  SIGNET_ASSIGN_OR_RETURN(auto card, open_enrollment(ctx, o, *session));
  SIGNET_ASSIGN_OR_RETURN(auto outcome, card->resubmit(o.resubmit));
  return show_outcome(ctx, *card, outcome, o.out, "Enrolled (resubmitted)");
}

Result<void> enroll(ApplianceContext& ctx, const EnrollOptions& o) {
  if (o.resubmit != 0) {
    if (!o.profile.empty() || !o.subject.empty() || !o.sans.empty() || !o.key.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "--resubmit runs the failed order's own request again; --profile, --subject, "
                   "--san and --key cannot be given with it");
    }
    return resubmit(ctx, o);
  }
  if (o.profile.empty()) {
    return Error(ErrorCode::kInvalidArgument, "--profile is required (or --resubmit ORDER_ID)");
  }
  SIGNET_ASSIGN_OR_RETURN(auto session, CardSession::create(ctx, o.card));
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, algorithm_of(o.key));
  SIGNET_ASSIGN_OR_RETURN(auto card, open_enrollment(ctx, o, *session));
  token::EnrollRequest request;
  request.profile = {o.profile, o.ca};
  request.algorithm = algorithm;
  request.subject = o.subject;
  request.subject_alt_names = o.sans;
  if (o.validity_days > 0) request.validity_days = o.validity_days;
  SIGNET_ASSIGN_OR_RETURN(auto offered, card->offered_algorithms(request.profile));
  std::string names;
  for (auto a : offered) names += (names.empty() ? "" : ", ") + std::string(base::to_string(a));
  print_progress({"algorithms", "offered for this card and profile: " + names});
  SIGNET_ASSIGN_OR_RETURN(auto outcome, card->enroll(request));
  return show_outcome(ctx, *card, outcome, o.out, "Enrolled");
}

Result<void> renew(ApplianceContext& ctx, const EnrollOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto session, CardSession::create(ctx, o.card));
  SIGNET_ASSIGN_OR_RETURN(auto record, find_certificate(ctx, o.id, o.ca));
  SIGNET_ASSIGN_OR_RETURN(auto card, open_enrollment(ctx, o, *session));
  std::optional<int> validity;
  if (o.validity_days > 0) validity = o.validity_days;
  SIGNET_ASSIGN_OR_RETURN(auto outcome, card->renew(record.id, validity));
  return show_outcome(ctx, *card, outcome, o.out, "Renewed");
}

Result<void> rekey(ApplianceContext& ctx, const EnrollOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto session, CardSession::create(ctx, o.card));
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, algorithm_of(o.key));
  SIGNET_ASSIGN_OR_RETURN(auto record, find_certificate(ctx, o.id, o.ca));
  SIGNET_ASSIGN_OR_RETURN(auto card, open_enrollment(ctx, o, *session));
  SIGNET_ASSIGN_OR_RETURN(auto outcome, card->rekey(record.id, algorithm, o.revoke_previous));
  if (o.revoke_previous) refresh_after_revocation(ctx, record.ca_name);
  return show_outcome(ctx, *card, outcome, o.out, "Rekeyed");
}

Result<void> show(ApplianceContext& ctx, const EnrollOptions& o) {
  SIGNET_ASSIGN_OR_RETURN(auto session, CardSession::create(ctx, o.card));
  SIGNET_ASSIGN_OR_RETURN(auto card, open_enrollment(ctx, o, *session));
  SIGNET_ASSIGN_OR_RETURN(auto view, card->show());
  const auto now = ctx.clock().now();
  json objects = json::array();
  std::vector<std::vector<std::string>> rows;
  for (const auto& entry : view.objects) {
    const std::string kind(hsm::to_string(entry.object.kind));
    json j = {{"kind", kind},
              {"id", base::to_hex(entry.object.id)},
              {"label", entry.object.label},
              {"certificate", nullptr}};
    std::string linked = "-";
    if (entry.certificate) {
      const auto& c = *entry.certificate;
      j["certificate"] = {{"id", c.id},
                          {"ca", c.ca_name},
                          {"serial", c.serial.to_hex()},
                          {"subject", c.subject},
                          {"status", std::string(ca::to_string(ca::status_at(c, now)))}};
      linked = c.ca_name + "/" + c.serial.to_hex() + " (" +
               std::string(ca::to_string(ca::status_at(c, now))) + ")";
      // Where the inventory says the card was enrolled (empty for records from before).
      const std::string enrolled_in = c.key_location ? c.key_location->reader : std::string();
      j["certificate"]["enrolled_in_reader"] = enrolled_in;
      if (!enrolled_in.empty()) linked += ", enrolled in '" + enrolled_in + "'";
    }
    objects.push_back(j);
    rows.push_back({kind, base::to_hex(entry.object.id), entry.object.label, linked});
  }
  json algorithms = json::array();
  for (auto a : view.algorithms) algorithms.push_back(std::string(base::to_string(a)));
  if (ctx.json()) {
    print_json({{"reader", view.reader},
                {"atr_rule", view.card.rule.name},
                {"module", view.card.rule.module_path},
                {"type", view.type},
                {"token", token_json(view.card.token)},
                {"algorithms", algorithms},
                {"objects", objects}});
    return base::ok();
  }
  std::printf(
      "Reader:      %s\nToken:       %s, model %s\nModule:      %s (rule '%s')\n"
      "Type:        %s\nPIN:         %s\nAlgorithms:  %s\n\n",
      view.reader.c_str(), view.card.token.describe().c_str(), view.card.token.model.c_str(),
      view.card.rule.module_path.c_str(), view.card.rule.name.c_str(), view.type.c_str(),
      pin_counters(view.card.token).c_str(), algorithms.dump().c_str());
  if (rows.empty()) {
    std::printf("The card holds no objects.\n");
  } else {
    print_table({"OBJECT", "CKA_ID", "LABEL", "INVENTORY"}, rows);
  }
  return base::ok();
}

void add_enroll_command(CLI::App* card, Action& selected) {
  auto o = std::make_shared<EnrollOptions>();
  auto* cmd = card->add_subcommand(
      "enroll",
      "enroll a token holder: generate a key pair on the card, have the CA certify it (proof of "
      "possession by a CSR the card signs) and write the certificate onto the card");
  add_card_common_options(cmd, o->card);
  cmd->add_option("--profile", o->profile,
                  "RA profile (name, or CA/name); required unless --resubmit");
  cmd->add_option("--resubmit", o->resubmit,
                  "run the failed card enrollment order ORDER_ID again, from its stored request "
                  "(profile, subject, SANs, algorithm), on the same card");
  cmd->add_option("--ca", o->ca, "the CA whose profile is meant");
  cmd->add_option("--key", o->key,
                  "key algorithm (ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096); default: the "
                  "first that both the profile and the card allow");
  cmd->add_option("--subject", o->subject, "the holder's subject DN, e.g. \"CN=Ada,O=Example\"");
  cmd->add_option(
      "--san", o->sans,
      "subject alternative name, repeatable: email:ada@example.com, UPN:ada@corp.example, "
      "DNS:..., URI:...");
  cmd->add_option("--validity-days", o->validity_days, "default: the profile's")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--management-key-file", o->management_key_file,
                  "ykcs11 cards: file (mode 0600) holding the card's PIV management key in hex, "
                  "which authorises key generation and certificate writes; default: the next "
                  "line of standard input with --pin-stdin, else a prompt");
  cmd->add_option("--slot", o->slot, "PIV cards: the key slot (9a, 9c, 9d, 9e; default 9a)");
  cmd->add_option("--timeout", o->timeout,
                  "seconds to allow for key generation on the card (default 600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", o->out, "also write the certificate (PEM) to this file");
  cmd->callback(
      [&selected, o] { selected = [o](ApplianceContext& ctx) { return enroll(ctx, *o); }; });
}

void add_renew_command(CLI::App* card, Action& selected) {
  auto o = std::make_shared<EnrollOptions>();
  auto* cmd = card->add_subcommand(
      "renew",
      "renew a certificate whose key is on the card: same key, a new certificate written "
      "beside it, the old certificate object removed from the card");
  add_card_common_options(cmd, o->card);
  cmd->add_option("ID", o->id, "serial number or SHA-256 fingerprint of the certificate")
      ->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when several used the serial");
  cmd->add_option("--management-key-file", o->management_key_file,
                  "ykcs11 cards: file (mode 0600) holding the card's PIV management key in hex, "
                  "which authorises key generation and certificate writes; default: the next "
                  "line of standard input with --pin-stdin, else a prompt");
  cmd->add_option("--validity-days", o->validity_days, "default: the profile's")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", o->out, "also write the certificate (PEM) to this file");
  cmd->callback(
      [&selected, o] { selected = [o](ApplianceContext& ctx) { return renew(ctx, *o); }; });
}

void add_rekey_command(CLI::App* card, Action& selected) {
  auto o = std::make_shared<EnrollOptions>();
  auto* cmd = card->add_subcommand(
      "rekey",
      "rekey a certificate whose key is on the card: a new key pair on the card and its "
      "certificate; with --revoke-previous the old certificate is revoked (superseded) and its "
      "key and certificate objects are deleted from the card");
  add_card_common_options(cmd, o->card);
  cmd->add_option("ID", o->id, "serial number or SHA-256 fingerprint of the certificate")
      ->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when several used the serial");
  cmd->add_option("--key", o->key, "key algorithm of the new key (default: the first offered)");
  cmd->add_flag("--revoke-previous", o->revoke_previous,
                "revoke the old certificate (superseded) and delete its objects from the card");
  cmd->add_option("--management-key-file", o->management_key_file,
                  "ykcs11 cards: file (mode 0600) holding the card's PIV management key in hex, "
                  "which authorises key generation and certificate writes; default: the next "
                  "line of standard input with --pin-stdin, else a prompt");
  cmd->add_option("--slot", o->slot,
                  "PIV cards: the key slot of the new key (default: the previous key's slot, "
                  "whose key the new one replaces; another slot must be free)");
  cmd->add_option("--timeout", o->timeout, "seconds to allow for key generation (default 600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", o->out, "also write the certificate (PEM) to this file");
  cmd->callback(
      [&selected, o] { selected = [o](ApplianceContext& ctx) { return rekey(ctx, *o); }; });
}

void add_show_command(CLI::App* card, Action& selected) {
  auto o = std::make_shared<EnrollOptions>();
  auto* cmd = card->add_subcommand(
      "show",
      "show the card: reader, token, type, PIN counters, the algorithms it supports, and the "
      "objects on it, each key and certificate linked to the inventory (needs the card's PIN, "
      "as private objects are visible only after a login)");
  add_card_common_options(cmd, o->card);
  cmd->callback(
      [&selected, o] { selected = [o](ApplianceContext& ctx) { return show(ctx, *o); }; });
}

}  // namespace

void register_card_enrollment_commands(CLI::App* card, Action& selected) {
  add_enroll_command(card, selected);
  add_renew_command(card, selected);
  add_rekey_command(card, selected);
  add_show_command(card, selected);
}

}  // namespace signet::appliance
