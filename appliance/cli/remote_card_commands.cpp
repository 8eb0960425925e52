// `signet card enroll | renew | rekey` through a running signetd's REST API (/api/v1/cards,
// with [cards] enabled there), so that a holder is enrolled while signetd owns the store: the
// job is started (POST; `enroll --resubmit ORDER_ID` posts to /api/v1/cards/resubmissions),
// followed (GET .../jobs/{id} every second, its progress on stderr as the local command prints
// it) and its outcome printed. The card's PIN is read as locally (--card-pin-file, --pin-stdin,
// a prompt), and so is the PIV management key of card types that need it (ykcs11):
// --management-key-file (mode 0600), else, when GET /api/v1/cards/readers says the card needs
// one, the next line of standard input (--pin-stdin, after the PIN) or a prompt. Both go into
// the request body only, and the body is wiped once sent. Flags that only the local command
// acts on (--atr-map, --timeout) are taken and ignored: signetd uses its own [cards] settings.
#include <openssl/crypto.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "appliance/cli/card_support.h"
#include "appliance/cli/output.h"
#include "appliance/cli/remote.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

struct RemoteCardOptions {
  CardCommonOptions card;
  std::string profile, ca, key, subject, slot, out, id, management_key_file;
  std::uint64_t resubmit = 0;
  std::vector<std::string> sans;
  int validity_days = 0;
  long timeout = 0;
  bool revoke_previous = false;
};

// `text` += the secret as a JSON string, escaped as JSON wants it.
void append_secret(std::string& text, const base::SecureBuffer& secret) {
  static constexpr char kHex[] = "0123456789abcdef";
  text += '"';
  for (std::uint8_t c : secret.view()) {
    if (c == '"' || c == '\\') {
      text += '\\';
      text += static_cast<char>(c);
    } else if (c < 0x20) {
      text += "\\u00";
      text += kHex[c >> 4];
      text += kHex[c & 15];
    } else {
      text += static_cast<char>(c);
    }
  }
  text += '"';
}

// `fields` as a JSON object with "pin" (and "management_key" when given) added. The caller
// wipes the returned text once it is sent.
std::string body_with_secrets(const json& fields, const base::SecureBuffer& pin,
                              const std::optional<base::SecureBuffer>& management_key) {
  std::string text = fields.dump();
  // Room for every secret escaped at its longest: no reallocation leaves a copy behind.
  text.reserve(text.size() + 64 + 6 * pin.size() +
               (management_key ? 6 * management_key->size() : 0));
  text.pop_back();  // the closing brace
  text += fields.empty() ? "\"pin\":" : ",\"pin\":";
  append_secret(text, pin);
  if (management_key) {
    text += ",\"management_key\":";
    append_secret(text, *management_key);
  }
  text += '}';
  return text;
}

// Whether the card the job is for (the named reader's, else the only one present) is of a type
// that needs the management key, as GET /api/v1/cards/readers reports it. false when that is
// not known (no card yet, several cards): the job then says so if the card needs one.
bool card_needs_management_key(RemoteContext& ctx, const std::string& reader) {
  auto readers = ctx.api.call("GET", "/api/v1/cards/readers");
  if (!readers || !readers->contains("items")) return false;
  const json* found = nullptr;
  int with_card = 0;
  for (const auto& r : (*readers)["items"]) {
    if (!r.value("card_present", false) || !r["card"].is_object()) continue;
    ++with_card;
    if (reader.empty() || r.value("name", "") == reader) found = &r;
  }
  if (found == nullptr || (reader.empty() && with_card != 1)) return false;
  return (*found)["card"].value("needs_management_key", false);
}

// The API's error reply as an Error (its message, and what the PIN counters say).
Error reply_error(const ApiReply& reply) {
  auto parsed = json::parse(reply.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("error")) {
    return Error(ErrorCode::kUnavailable, "signetd answered " + std::to_string(reply.status));
  }
  const auto& e = parsed["error"];
  std::string message = e.value("message", "signetd refused the request");
  const auto code = e.value("code", "");
  const auto kind = code == "pin_incorrect" ? ErrorCode::kPinIncorrect
                    : code == "pin_locked"  ? ErrorCode::kPinLocked
                    : code == "not_found"   ? ErrorCode::kNotFound
                    : code == "conflict"    ? ErrorCode::kConflict
                                            : ErrorCode::kInvalidArgument;
  return Error(kind, message);
}

Result<json> start_job(RemoteContext& ctx, const std::string& path, const json& fields,
                       const RemoteCardOptions& o) {
  SecretReader secrets(o.card.pin_stdin);
  SIGNET_ASSIGN_OR_RETURN(auto pin, secrets.read(o.card.pin_file, "PIN for the card: "));
  std::optional<base::SecureBuffer> management_key;
  if (!o.management_key_file.empty() || card_needs_management_key(ctx, o.card.reader)) {
    SIGNET_ASSIGN_OR_RETURN(
        management_key,
        secrets.read(o.management_key_file, "PIV management key (hex) for the card: "));
  }
  std::string body = body_with_secrets(fields, pin, management_key);
  auto reply = ctx.api.send("POST", path, body);
  OPENSSL_cleanse(body.data(), body.size());
  if (!reply) return std::move(reply).error();
  if (reply->status != 202) return reply_error(*reply);
  return json::parse(reply->body);
}

// Follows the job to its end, printing new progress lines on stderr.
Result<json> follow(RemoteContext& ctx, json job) {
  std::size_t printed = 0;
  std::string last;
  for (;;) {
    const auto& lines = job["progress"];
    // A key generation's per-second line is updated in place: printed again when it changes.
    if (printed > 0 && printed <= lines.size() && lines[printed - 1].value("message", "") != last) {
      --printed;
    }
    for (std::size_t i = printed; i < lines.size(); ++i) {
      last = lines[i].value("message", "");
      print_progress({lines[i].value("step", ""), last});
    }
    printed = lines.size();
    if (job.value("final", false)) return job;
    std::this_thread::sleep_for(std::chrono::seconds(1));
    SIGNET_ASSIGN_OR_RETURN(
        job, ctx.api.call("GET", "/api/v1/cards/jobs/" + std::to_string(job["id"].get<long>())));
  }
}

Result<void> finish(RemoteContext& ctx, const json& job, const RemoteCardOptions& o,
                    const std::string& verb) {
  if (job["state"] != "done") {
    const auto& e = job["error"];
    std::string message = e.is_object() ? e.value("message", "the card job failed") : "failed";
    if (!job["order_id"].is_null()) {
      message += " (order " + std::to_string(job["order_id"].get<long>()) + ")";
    }
    return Error(ErrorCode::kUnavailable, "card job " + std::to_string(job["id"].get<long>()) +
                                              " " + job["state"].get<std::string>() + ": " +
                                              message);
  }
  const auto& result = job["result"];
  if (!o.out.empty()) {
    const std::string pem = result.value("pem", "");
    SIGNET_TRY(write_output(o.out, base::as_bytes(pem)));
  }
  if (ctx.json) {
    print_json(job);
    return base::ok();
  }
  const auto& c = result["certificate"];
  std::printf("%s certificate %s for '%s' in reader '%s' (order %ld, card job %ld).\n",
              verb.c_str(), json_text(c, "serial").c_str(), json_text(c, "subject").c_str(),
              json_text(job, "reader").c_str(), job["order_id"].get<long>(), job["id"].get<long>());
  std::printf("Key on card:           %s\n", json_text(result, "key_uri").c_str());
  for (const auto& label : result["objects_written"]) {
    std::printf("Written to card:       %s\n", label.get<std::string>().c_str());
  }
  for (const auto& what : result["objects_removed"]) {
    std::printf("Removed from card:     %s\n", what.get<std::string>().c_str());
  }
  for (const auto& w : result["warnings"]) {
    std::printf("Warning:               %s\n", w.get<std::string>().c_str());
  }
  if (!o.out.empty()) std::printf("Certificate written to %s\n", o.out.c_str());
  return base::ok();
}

void add_common(CLI::App* cmd, RemoteCardOptions& o) {
  add_card_common_options(cmd, o.card);
  cmd->add_option("--management-key-file", o.management_key_file,
                  "ykcs11 cards: file (mode 0600) holding the card's PIV management key in hex, "
                  "which authorises key generation and certificate writes; default: the next "
                  "line of standard input with --pin-stdin, else a prompt (asked for when "
                  "signetd reports that the card needs it)");
  cmd->add_option("--timeout", o.timeout, "ignored here: signetd's [cards] settings apply");
  cmd->add_option("--out", o.out, "also write the certificate (PEM) to this file");
}

Result<void> enroll(RemoteContext& ctx, const RemoteCardOptions& o) {
  json fields = json::object();
  std::string path = "/api/v1/cards/enrollments";
  if (o.resubmit != 0) {
    if (!o.profile.empty() || !o.subject.empty() || !o.sans.empty() || !o.key.empty()) {
      return Error(ErrorCode::kInvalidArgument,
                   "--resubmit runs the failed order's own request again; --profile, --subject, "
                   "--san and --key cannot be given with it");
    }
    path = "/api/v1/cards/resubmissions";
    fields["order"] = o.resubmit;
  } else {
    if (o.profile.empty()) {
      return Error(ErrorCode::kInvalidArgument, "--profile is required (or --resubmit ORDER_ID)");
    }
    fields["profile"] = o.profile;
    if (!o.ca.empty()) fields["ca"] = o.ca;
    if (!o.key.empty()) fields["key"] = o.key;
    if (!o.subject.empty()) fields["subject"] = o.subject;
    if (!o.sans.empty()) fields["sans"] = o.sans;
    if (o.validity_days > 0) fields["validity_days"] = o.validity_days;
  }
  if (!o.card.reader.empty()) fields["reader"] = o.card.reader;
  if (!o.slot.empty()) fields["slot"] = o.slot;
  SIGNET_ASSIGN_OR_RETURN(auto job, start_job(ctx, path, fields, o));
  SIGNET_ASSIGN_OR_RETURN(auto done, follow(ctx, std::move(job)));
  return finish(ctx, done, o, o.resubmit != 0 ? "Enrolled (resubmitted)" : "Enrolled");
}

void add_enroll(CLI::App* card, RemoteAction& selected) {
  auto o = std::make_shared<RemoteCardOptions>();
  auto* cmd =
      card->add_subcommand("enroll",
                           "enroll a token holder through signetd: key pair generated on the card, "
                           "certificate issued and written onto the card");
  add_common(cmd, *o);
  cmd->add_option("--profile", o->profile,
                  "RA profile (name, or CA/name); required unless --resubmit");
  cmd->add_option("--resubmit", o->resubmit,
                  "run the failed card enrollment order ORDER_ID again, from its stored request "
                  "(profile, subject, SANs, algorithm), on the same card");
  cmd->add_option("--ca", o->ca, "the CA whose profile is meant");
  cmd->add_option("--key", o->key, "key algorithm (default: the first offered)");
  cmd->add_option("--subject", o->subject, "the holder's subject DN");
  cmd->add_option("--san", o->sans, "subject alternative name, repeatable");
  cmd->add_option("--validity-days", o->validity_days, "default: the profile's")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--slot", o->slot, "PIV cards: the key slot (9a, 9c, 9d, 9e; default 9a)");
  cmd->callback([&selected, o] {
    selected = [o](RemoteContext& ctx) -> Result<void> { return enroll(ctx, *o); };
  });
}

void add_renew_rekey(CLI::App* card, RemoteAction& selected, bool rekey) {
  auto o = std::make_shared<RemoteCardOptions>();
  auto* cmd = card->add_subcommand(
      rekey ? "rekey" : "renew",
      rekey ? "rekey a certificate whose key is on the card, through signetd"
            : "renew a certificate whose key is on the card (same key), through signetd");
  add_common(cmd, *o);
  cmd->add_option("ID", o->id, "serial number or SHA-256 fingerprint of the certificate")
      ->required();
  cmd->add_option("--ca", o->ca, "the issuing CA, when several used the serial");
  if (rekey) {
    cmd->add_option("--key", o->key, "key algorithm of the new key");
    cmd->add_flag("--revoke-previous", o->revoke_previous,
                  "revoke the old certificate (superseded) and delete its objects from the card");
    cmd->add_option("--slot", o->slot,
                    "PIV cards: the key slot of the new key (default: the previous key's slot, "
                    "whose key the new one replaces; another slot must be free)");
  } else {
    cmd->add_option("--validity-days", o->validity_days, "default: the profile's")
        ->check(CLI::PositiveNumber);
  }
  cmd->callback([&selected, o, rekey] {
    selected = [o, rekey](RemoteContext& ctx) -> Result<void> {
      json fields = {{"certificate", o->id}};
      if (!o->ca.empty()) fields["ca"] = o->ca;
      if (!o->card.reader.empty()) fields["reader"] = o->card.reader;
      if (rekey) {
        if (!o->key.empty()) fields["key"] = o->key;
        if (!o->slot.empty()) fields["slot"] = o->slot;
        fields["revoke_previous"] = o->revoke_previous;
      } else if (o->validity_days > 0) {
        fields["validity_days"] = o->validity_days;
      }
      SIGNET_ASSIGN_OR_RETURN(
          auto job,
          start_job(ctx, rekey ? "/api/v1/cards/rekeys" : "/api/v1/cards/renewals", fields, *o));
      SIGNET_ASSIGN_OR_RETURN(auto done, follow(ctx, std::move(job)));
      return finish(ctx, done, *o, rekey ? "Rekeyed" : "Renewed");
    };
  });
}

}  // namespace

bool is_remote_card_command(const CLI::App& app) {
  const auto* card = app.get_subcommand("card");
  if (!card->parsed()) return false;
  for (const char* name : {"enroll", "renew", "rekey"}) {
    if (card->get_subcommand(name)->parsed()) return true;
  }
  return false;
}

void register_remote_card_commands(CLI::App& app, RemoteAction& selected) {
  auto* card = app.add_subcommand("card", "smart cards through signetd (enroll, renew, rekey)");
  card->require_subcommand(1);
  add_enroll(card, selected);
  add_renew_rekey(card, selected, /*rekey=*/false);
  add_renew_rekey(card, selected, /*rekey=*/true);
}

}  // namespace signet::appliance
