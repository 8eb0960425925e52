// /api/v1/cards: the PC/SC readers and the smart card in each, the key algorithms a profile and
// a card both allow, the holder's PIN check, and enrollment / renewal / rekey on a card as
// asynchronous jobs (card_service.h): POST answers 202 with the job, GET .../jobs/{id} follows
// it, DELETE cancels it. The holder's PIN travels in POST bodies only; it is moved into a
// base::SecureBuffer, every copy in the request is wiped, and it is never logged or echoed.
// Every route answers 404 not_found when smart-card support is off ([cards] enabled = false).
#include <openssl/crypto.h>

#include "appliance/api/api.h"
#include "appliance/api/card_service.h"
#include "appliance/api/internal/certificate_support.h"
#include "appliance/api/internal/request_support.h"
#include "appliance/core/views.h"
#include "hsm/key_provider.h"
#include "hsm/module.h"
#include "store/lmdb_store.h"
#include "token/card_selection.h"
#include "token/token_type.h"

namespace signet::appliance {

namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;
using namespace api_internal;

constexpr const char* kTag = "cards";

Result<CardService*> need(CardService* cards) {
  if (cards == nullptr) {
    return Error(ErrorCode::kNotFound,
                 "smart-card support is off: set [cards] enabled = true in signetd's "
                 "configuration (docs/CONFIGURATION.md) and restart signetd");
  }
  return cards;
}

json pin_property() {
  return {{"type", "string"},
          {"format", "password"},
          {"minLength", 1},
          {"maxLength", 256},
          {"description", "the card's user PIN (never stored, logged or echoed)"}};
}

json management_key_property() {
  return {{"type", "string"},
          {"format", "password"},
          {"minLength", 32},
          {"maxLength", 64},
          {"description",
           "card types that need it (ykcs11, needs_management_key in GET /api/v1/cards/readers): "
           "the card's PIV management key in hex (32, 48 or 64 digits), which authorises key "
           "generation and certificate writes (never stored, logged or echoed)"}};
}

// The route's schema as documented (with the secrets) and as checked once they are taken out.
struct PinSchemas {
  json documented;
  json without_pin;
};
PinSchemas pin_schemas(Properties properties, std::vector<std::string> required,
                       bool with_management_key = false) {
  PinSchemas s;
  s.without_pin = object_schema(properties, required);
  properties.push_back({"pin", pin_property()});
  if (with_management_key) properties.push_back({"management_key", management_key_property()});
  required.push_back("pin");
  s.documented = object_schema(properties, required);
  return s;
}

void wipe_strings(json& body) {
  for (auto& [key, value] : body.items()) {
    if (value.is_string()) {
      auto& text = value.get_ref<std::string&>();
      OPENSSL_cleanse(text.data(), text.size());
    }
  }
}

// Moves the string field `name` out of `body` into locked memory (nullopt when absent), wiping
// its text; kInvalidArgument (naming the field, never quoting it) when it is not a non-empty
// string of at most 256 characters.
Result<std::optional<base::SecureBuffer>> take_secret(json& body, const char* name,
                                                      const char* what) {
  auto it = body.find(name);
  if (it == body.end()) return std::optional<base::SecureBuffer>();
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string("the field '") + name + "' (" + what + ") must be a non-empty string");
  }
  auto& text = it->get_ref<std::string&>();
  if (text.size() > 256) {
    return Error(ErrorCode::kInvalidArgument,
                 std::string("the field '") + name + "' is longer than 256 characters");
  }
  auto secret = base::SecureBuffer::copy_of(base::as_bytes(text));
  OPENSSL_cleanse(text.data(), text.size());
  body.erase(it);
  return std::optional<base::SecureBuffer>(std::move(secret));
}

// Takes the PIN (and, with `management_key`, the optional management key, its format checked
// as the CLI checks it) out of the body into locked memory, wipes the raw body and every string
// of the parsed one (on every way out), and checks the rest against `schema`.
Result<json> take_body_with_secrets(http::Request& request, const json& schema,
                                    base::SecureBuffer& pin,
                                    std::optional<base::SecureBuffer>* management_key) {
  auto parsed = json_body(request);
  OPENSSL_cleanse(request.body.data(), request.body.size());
  SIGNET_ASSIGN_OR_RETURN(auto body, std::move(parsed));
  auto taken = [&]() -> Result<void> {
    if (management_key != nullptr) {
      SIGNET_ASSIGN_OR_RETURN(*management_key,
                              take_secret(body, "management_key", "the card's PIV management key"));
      if (*management_key) {
        auto checked = token::check_management_key((*management_key)->view());
        if (!checked) {
          // The answer's message is the error's own (not its context): name the field there.
          return Error(checked.error().code(),
                       "the field 'management_key': " + checked.error().message());
        }
      }
    }
    SIGNET_ASSIGN_OR_RETURN(auto taken_pin, take_secret(body, "pin", "the card's user PIN"));
    if (!taken_pin) {
      return Error(ErrorCode::kInvalidArgument,
                   "the field 'pin' (the card's user PIN) is required");
    }
    pin = std::move(*taken_pin);
    return base::ok();
  }();
  if (!taken) {
    wipe_strings(body);
    if (management_key != nullptr) management_key->reset();
    return std::move(taken).error();
  }
  SIGNET_TRY(validate(body, schema));
  return body;
}

Result<json> take_body_with_pin(http::Request& request, const json& schema,
                                base::SecureBuffer& pin) {
  return take_body_with_secrets(request, schema, pin, nullptr);
}

Result<std::optional<base::KeyAlgorithm>> algorithm_field(const json& body) {
  auto name = field_string(body, "key");
  if (!name || name->empty()) return std::optional<base::KeyAlgorithm>();
  SIGNET_ASSIGN_OR_RETURN(auto algorithm, base::parse_key_algorithm(*name));
  return std::optional<base::KeyAlgorithm>(algorithm);
}

http::Response accepted(const std::shared_ptr<CardJob>& job) {
  auto response = json_response(job->snapshot(), 202);
  response.add_header("location", "/api/v1/cards/jobs/" + std::to_string(job->id()));
  return response;
}

Result<http::Response> submit(ApiServices& api, CardService* cards, ApiCall& call,
                              CardJobRequest request, CardJobSecrets secrets) {
  const bool with_management_key = secrets.management_key.has_value();
  const std::string slot = request.key_slot;
  SIGNET_ASSIGN_OR_RETURN(
      auto job, cards->submit(std::move(request), std::move(secrets), call.principal.actor()));
  const auto view = job->snapshot();
  json detail = {{"kind", view["kind"]},
                 {"reader", view["reader"]},
                 {"management_key_given", with_management_key}};
  if (!slot.empty()) detail["slot"] = slot;
  if (view.contains("resubmit_order")) detail["resubmit_order"] = view["resubmit_order"];
  if (view.contains("subject")) detail["subject"] = view["subject"];
  if (view.contains("profile")) detail["profile"] = view["profile"];
  if (view.contains("certificate_id")) detail["certificate_id"] = view["certificate_id"];
  SIGNET_TRY(api.audit().append_audit(
      ca::make_audit_event(api.clock().now(), call.principal.actor(), "card.job_submitted",
                           "card-job:" + std::to_string(job->id()), detail.dump())));
  return accepted(job);
}

void add_readers(Router& router, CardService* cards) {
  add_route(router, "GET", "/api/v1/cards/readers", Permission::kRead,
            {kTag,
             "the PC/SC readers and the card in each: ATR, the ATR map's rule, module and "
             "token type, the card's token (serial, label, model) and its PIN counters"},
            [cards](ApiCall&, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
              SIGNET_ASSIGN_OR_RETURN(auto readers, service->readers());
              return json_response(readers);
            });
}

void add_algorithms(Router& router, ApiServices& api, CardService* cards) {
  RouteDoc doc{kTag,
               "the key algorithms that both an RA profile and the card in the reader allow",
               {{"profile", "RA profile (name, or CA/name)"},
                {"ca", "the CA whose profile is meant"},
                {"reader", "the reader (default: the only one holding a card)"}}};
  add_route(
      router, "GET", "/api/v1/cards/algorithms", Permission::kOperate, std::move(doc),
      [&api, cards](ApiCall& call, const json&) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
        const auto profile = query_string(call.request, "profile").value_or("");
        if (profile.empty()) {
          return Error(ErrorCode::kInvalidArgument, "the query parameter 'profile' is required");
        }
        ca::ProfileSelector selector{profile, query_string(call.request, "ca").value_or("")};
        SIGNET_ASSIGN_OR_RETURN(auto* store, api.context().store());
        token::EnrollmentEnvironment environment{
            api.authority(),
            ca::RecordStores{*store, *store, *store, *store, *store, *store},
            api.clock(),
            api.context().rng(),
            call.principal.actor(),
            api.context().worker()};
        token::CardSelection selection;
        selection.reader = query_string(call.request, "reader").value_or("");
        // Listing mechanisms needs no login: a PIN asked for is refused.
        hsm::PinSource no_pin = [](const hsm::TokenInfo&) -> Result<base::SecureBuffer> {
          return Error(ErrorCode::kInvalidArgument, "no PIN is given when listing algorithms");
        };
        SIGNET_ASSIGN_OR_RETURN(
            auto card, token::CardEnrollment::open(std::move(environment), service->map(),
                                                   service->modules(), selection, no_pin, {}));
        SIGNET_ASSIGN_OR_RETURN(auto offered, card->offered_algorithms(selector));
        json names = json::array();
        for (auto a : offered) names.push_back(std::string(base::to_string(a)));
        return json_response({{"reader", card->reader()},
                              {"card", card_token_json(card->card())},
                              {"algorithms", names}});
      });
}

// A refused PIN: 403 pin_incorrect / 423 pin_locked with the card's PIN counters after the
// attempt, as POST /api/v1/tokens/{token}/login answers.
http::Response pin_refused(const Error& error, const hsm::TokenInfo& after) {
  const int status = error.code() == ErrorCode::kPinIncorrect ? 403
                     : error.code() == ErrorCode::kPinLocked  ? 423
                                                              : http_status_of(error.code());
  if (status == 500) return error_response(error);
  json body = {{"error", {{"code", error_code_name(error.code())}, {"message", error.message()}}}};
  body["error"]["token"] = {{"user_pin_count_low", after.user_pin_count_low},
                            {"user_pin_final_try", after.user_pin_final_try},
                            {"user_pin_locked", after.user_pin_locked}};
  return json_response(body, status);
}

Result<http::Response> verify_pin(ApiServices& api, CardService& cards, ApiCall& call,
                                  const json& schema) {
  base::SecureBuffer pin;
  SIGNET_ASSIGN_OR_RETURN(auto body, take_body_with_pin(call.request, schema, pin));
  std::string reader_name;
  SIGNET_ASSIGN_OR_RETURN(auto card,
                          token::select_card(field_string_or(body, "reader", ""), cards.map(),
                                             cards.modules(), &reader_name));
  const std::string object = "card:" + card.token.serial;
  auto audit = [&](const char* action, json detail) -> Result<void> {
    detail["reader"] = reader_name;
    detail["label"] = card.token.label;
    SIGNET_TRY(api.audit().append_audit(ca::make_audit_event(
        api.clock().now(), call.principal.actor(), action, object, detail.dump())));
    return base::ok();
  };
  if (card.token.user_pin_locked) {
    SIGNET_TRY(audit("card.pin_refused", {{"error", "pin_locked"}}));
    return pin_refused(token::locked_card_error(card.token, reader_name), card.token);
  }
  SIGNET_ASSIGN_OR_RETURN(
      auto provider,
      hsm::Pkcs11KeyProvider::create({card.module}, card.token.serial, [](const hsm::TokenInfo&) {
        return Result<base::SecureBuffer>(Error(ErrorCode::kInvalidArgument, "no PIN"));
      }));
  auto done = provider->log_in(card.token.serial, pin);
  auto after = card.module->token_info(card.token.slot_id);
  const hsm::TokenInfo& now_info = after ? *after : card.token;
  if (!done) {
    SIGNET_TRY(
        audit("card.pin_refused", {{"error", std::string(error_code_name(done.error().code()))}}));
    if (done.error().code() == ErrorCode::kPinLocked) {
      return pin_refused(token::locked_card_error(now_info, reader_name), now_info);
    }
    return pin_refused(done.error(), now_info);
  }
  SIGNET_TRY(audit("card.pin_verified", json::object()));
  auto view = card_token_json(card);
  view["token"]["user_pin_count_low"] = now_info.user_pin_count_low;
  view["token"]["user_pin_final_try"] = now_info.user_pin_final_try;
  view["token"]["user_pin_locked"] = now_info.user_pin_locked;
  return json_response({{"reader", reader_name}, {"card", view}, {"verified", true}});
}

void add_verify_pin(Router& router, ApiServices& api, CardService* cards) {
  auto schemas = pin_schemas({{"reader", string_schema("the reader (default: the only one "
                                                       "holding a card)")}},
                             {});
  router.add("POST", "/api/v1/cards/pin/verify", Permission::kOperate,
             {kTag,
              "check the card's user PIN (C_Login, then the session ends); 403 pin_incorrect "
              "and 423 pin_locked carry the card's PIN counters",
              {},
              schemas.documented},
             [&api, cards, schema = schemas.without_pin](ApiCall& call) -> Result<http::Response> {
               SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
               return verify_pin(api, *service, call, schema);
             });
}

void add_enroll(Router& router, ApiServices& api, CardService* cards) {
  auto schemas = pin_schemas(
      {{"profile", string_schema("RA profile (name, or CA/name)")},
       {"ca", string_schema("the CA whose profile is meant")},
       {"key", string_schema("key algorithm (ec-p256, ec-p384, rsa-2048...); default: the first "
                             "that both the profile and the card allow")},
       {"subject", string_schema("the holder's subject DN, e.g. \"CN=Ada,O=Example\"")},
       {"sans", string_array_schema("subject alternative names: email:..., UPN:..., DNS:...")},
       {"validity_days", integer_schema("default: the profile's", 1, 36500)},
       {"reader", string_schema("the reader (default: the only one holding a card)")},
       {"slot", string_schema("PIV cards: the key slot (9a, 9c, 9d, 9e; default 9a)")}},
      {"profile"}, /*with_management_key=*/true);
  router.add("POST", "/api/v1/cards/enrollments", Permission::kOperate,
             {kTag,
              "enroll a token holder on a card: waits for the card, generates the key pair on "
              "it, issues the certificate and writes it onto the card; 202 with the job",
              {},
              schemas.documented,
              "application/json",
              202},
             [&api, cards, schema = schemas.without_pin](ApiCall& call) -> Result<http::Response> {
               SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
               CardJobSecrets secrets;
               SIGNET_ASSIGN_OR_RETURN(auto body,
                                       take_body_with_secrets(call.request, schema, secrets.pin,
                                                              &secrets.management_key));
               CardJobRequest request;
               request.kind = CardJobKind::kEnroll;
               request.enroll.profile = {field_string_or(body, "profile", ""),
                                         field_string_or(body, "ca", "")};
               SIGNET_ASSIGN_OR_RETURN(request.enroll.algorithm, algorithm_field(body));
               request.enroll.subject = field_string_or(body, "subject", "");
               request.enroll.subject_alt_names = field_strings(body, "sans");
               request.enroll.validity_days = field_int(body, "validity_days");
               request.reader = field_string_or(body, "reader", "");
               request.key_slot = field_string_or(body, "slot", "");
               // The profile must exist now, not minutes later on the job's thread.
               auto probe = api.service_for(call.principal);
               SIGNET_TRY(probe->resolve_profile(request.enroll.profile));
               return submit(api, service, call, std::move(request), std::move(secrets));
             });
}

// POST /api/v1/cards/renewals and /rekeys: the certificate whose key is on the card.
void add_renew_rekey(Router& router, ApiServices& api, CardService* cards, bool rekey) {
  Properties properties = {
      {"certificate", string_schema("serial number or SHA-256 fingerprint of the certificate")},
      {"ca", string_schema("the issuing CA, when several used the serial")},
      {"reader", string_schema("the reader (default: the only one holding a card)")}};
  if (rekey) {
    properties.push_back({"key", string_schema("key algorithm of the new key")});
    properties.push_back(
        {"revoke_previous",
         boolean_schema("revoke the old certificate (superseded) and delete its objects from "
                        "the card")});
    properties.push_back(
        {"slot", string_schema("PIV cards: the key slot of the new key (default: the previous "
                               "key's slot, whose key the new one replaces)")});
  } else {
    properties.push_back({"validity_days", integer_schema("default: the profile's", 1, 36500)});
  }
  auto schemas = pin_schemas(properties, {"certificate"}, /*with_management_key=*/true);
  const std::string path = rekey ? "/api/v1/cards/rekeys" : "/api/v1/cards/renewals";
  const std::string summary =
      rekey ? "rekey a certificate whose key is on the card: a new key pair on the card and its "
              "certificate; 202 with the job"
            : "renew a certificate whose key is on the card (same key, a new certificate "
              "written beside it); 202 with the job";
  router.add(
      "POST", path, Permission::kOperate,
      {kTag, summary, {}, schemas.documented, "application/json", 202},
      [&api, cards, rekey, schema = schemas.without_pin](ApiCall& call) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
        CardJobSecrets secrets;
        SIGNET_ASSIGN_OR_RETURN(auto body, take_body_with_secrets(call.request, schema, secrets.pin,
                                                                  &secrets.management_key));
        SIGNET_ASSIGN_OR_RETURN(auto record,
                                find_certificate(api, field_string_or(body, "certificate", ""),
                                                 field_string_or(body, "ca", "")));
        CardJobRequest request;
        request.kind = rekey ? CardJobKind::kRekey : CardJobKind::kRenew;
        request.certificate_id = record.id;
        request.reader = field_string_or(body, "reader", "");
        request.key_slot = field_string_or(body, "slot", "");
        request.validity_days = field_int(body, "validity_days");
        request.revoke_previous = field_bool(body, "revoke_previous").value_or(false);
        SIGNET_ASSIGN_OR_RETURN(request.algorithm, algorithm_field(body));
        return submit(api, service, call, std::move(request), std::move(secrets));
      });
}

// POST /api/v1/cards/resubmissions: a failed card enrollment order run again on its card.
// POST /api/v1/orders/{id}/resubmit cannot: the card's PIN (and management key) are needed.
void add_resubmit(Router& router, ApiServices& api, CardService* cards) {
  auto schemas = pin_schemas(
      {{"order", integer_schema("the failed card enrollment order", 1, 9007199254740991)},
       {"reader", string_schema("the reader (default: the only one holding a card)")},
       {"slot", string_schema("PIV cards: the key slot (9a, 9c, 9d, 9e; default 9a)")}},
      {"order"}, /*with_management_key=*/true);
  router.add(
      "POST", "/api/v1/cards/resubmissions", Permission::kOperate,
      {kTag,
       "run a failed card enrollment order again, from its stored request (profile, subject, "
       "SANs, algorithm), on the card it was for (same token serial): a new order that records "
       "the failed one; 202 with the job",
       {},
       schemas.documented,
       "application/json",
       202},
      [&api, cards, schema = schemas.without_pin](ApiCall& call) -> Result<http::Response> {
        SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
        CardJobSecrets secrets;
        SIGNET_ASSIGN_OR_RETURN(auto body, take_body_with_secrets(call.request, schema, secrets.pin,
                                                                  &secrets.management_key));
        const auto id = body["order"].get<std::uint64_t>();
        SIGNET_ASSIGN_OR_RETURN(auto* store, api.context().store());
        SIGNET_ASSIGN_OR_RETURN(auto failed, store->find_order(id));
        if (!failed) return Error(ErrorCode::kNotFound, "there is no order " + std::to_string(id));
        if (auto refused = refuse_profile(call.principal, failed->ca_name, failed->profile)) {
          return *refused;
        }
        // Checked again on the card (its token serial, a completed resubmission) by the job.
        if (failed->kind != ca::OrderKind::kIssue ||
            failed->key_source != ca::KeySourceKind::kKeyOnToken) {
          return Error(ErrorCode::kInvalidArgument,
                       "order " + std::to_string(id) +
                           " is not a card enrollment (an issue order whose key is generated on "
                           "a token); resubmit it with POST /api/v1/orders/" +
                           std::to_string(id) + "/resubmit");
        }
        if (failed->status != ca::OrderStatus::kFailed) {
          return Error(ErrorCode::kInvalidArgument, "order " + std::to_string(id) + " is " +
                                                        std::string(ca::to_string(failed->status)) +
                                                        "; only a failed order can be resubmitted");
        }
        CardJobRequest request;
        request.kind = CardJobKind::kResubmit;
        request.resubmit_order = failed->id;
        request.reader = field_string_or(body, "reader", "");
        request.key_slot = field_string_or(body, "slot", "");
        return submit(api, service, call, std::move(request), std::move(secrets));
      });
}

Result<std::shared_ptr<CardJob>> find_job(CardService& cards, const ApiCall& call) {
  SIGNET_ASSIGN_OR_RETURN(auto id, parse_id(call.param("id"), "card job id"));
  auto job = cards.find(id);
  if (!job) return Error(ErrorCode::kNotFound, "no card job " + std::to_string(id));
  return job;
}

void add_jobs(Router& router, ApiServices& api, CardService* cards) {
  add_route(router, "GET", "/api/v1/cards/jobs", Permission::kOperate,
            {kTag, "the card jobs (enrollments, renewals, rekeys), newest first"},
            [cards](ApiCall&, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
              json items = json::array();
              for (const auto& job : service->jobs()) items.push_back(job->snapshot());
              return json_response({{"items", items}});
            });
  add_route(router, "GET", "/api/v1/cards/jobs/{id}", Permission::kOperate,
            {kTag,
             "a card job: state (waiting_for_card, opening, generating, issuing, writing, done, "
             "failed, cancelled), progress, order id, the certificate or the error"},
            [cards](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
              SIGNET_ASSIGN_OR_RETURN(auto job, find_job(*service, call));
              return json_response(job->snapshot());
            });
  add_route(router, "DELETE", "/api/v1/cards/jobs/{id}", Permission::kOperate,
            {kTag,
             "cancel a card job: before the card is open at once; during key generation as a "
             "removal would (the key is deleted, the order fails); 409 when it has ended"},
            [&api, cards](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_ASSIGN_OR_RETURN(auto* service, need(cards));
              SIGNET_ASSIGN_OR_RETURN(auto job, find_job(*service, call));
              if (!job->cancel(call.principal.actor())) {
                return Error(ErrorCode::kConflict, "card job " + std::to_string(job->id()) +
                                                       " has already ended (" +
                                                       std::string(to_string(job->state())) + ")");
              }
              SIGNET_TRY(api.audit().append_audit(ca::make_audit_event(
                  api.clock().now(), call.principal.actor(), "card.job_cancel_requested",
                  "card-job:" + std::to_string(job->id()), "{}")));
              return json_response(job->snapshot());
            });
}

// The inventory's certificates whose key is on the token `serial` (a card's), scanning the
// inventory a page at a time up to kScanLimit records: the inventory has no index by key
// location.
constexpr std::size_t kScanLimit = 20000;

void add_card_certificates(Router& router, ApiServices& api, CardService* cards) {
  add_route(router, "GET", "/api/v1/cards/certificates", Permission::kRead,
            {kTag,
             "the inventory's certificates whose key is on a card's token (by token serial)",
             {{"token", "the card's token serial"}}},
            [&api, cards](ApiCall& call, const json&) -> Result<http::Response> {
              SIGNET_TRY(need(cards));
              const auto serial = query_string(call.request, "token").value_or("");
              if (serial.empty()) {
                return Error(ErrorCode::kInvalidArgument,
                             "the query parameter 'token' (a token serial) is required");
              }
              const auto now = api.clock().now();
              ca::CertificateQuery query;
              query.now = now;
              query.limit = 1000;
              json items = json::array();
              std::size_t scanned = 0;
              for (;;) {
                SIGNET_ASSIGN_OR_RETURN(auto page, api.inventory().list_certificates(query));
                scanned += page.items.size();
                for (const auto& record : page.items) {
                  if (record.key_location && record.key_location->token_serial == serial &&
                      !ApiServices::is_internal_ca(record.ca_name)) {
                    items.push_back(certificate_json(record, now));
                  }
                }
                if (page.next_cursor.empty() || scanned >= kScanLimit) break;
                query.cursor = page.next_cursor;
              }
              return json_response({{"items", items}, {"complete", scanned < kScanLimit}});
            });
}

}  // namespace

void register_card_routes(Router& router, ApiServices& api, CardService* cards) {
  if (cards != nullptr) {
    cards->set_after_revocation([&api](const std::string& ca_name) {
      if (!ca_name.empty()) api.after_revocation(ca_name);
    });
  }
  add_readers(router, cards);
  add_algorithms(router, api, cards);
  add_verify_pin(router, api, cards);
  add_enroll(router, api, cards);
  add_renew_rekey(router, api, cards, /*rekey=*/false);
  add_renew_rekey(router, api, cards, /*rekey=*/true);
  add_resubmit(router, api, cards);
  add_jobs(router, api, cards);
  add_card_certificates(router, api, cards);
  register_card_pin_routes(router, api, cards);
}

}  // namespace signet::appliance
