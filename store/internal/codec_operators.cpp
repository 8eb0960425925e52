// The encodings of operators and API tokens (ca/operators.h; see codec.h).
#include <array>
#include <limits>

#include "store/internal/codec.h"
#include "store/internal/tlv.h"

namespace signet::store::codec {

namespace {

using base::Bytes;
using base::ByteView;
using tlv::Decoder;
using tlv::Writer;

// Field tags. Never reuse or renumber a tag: records on disk keep them forever.
namespace operator_tag {
constexpr std::uint8_t kName = 1, kRole = 2, kPasswordHash = 3, kDisabled = 4,
                       kCertificateFingerprint = 5, kFailedLogins = 6, kLockedUntil = 7,
                       kCreated = 8, kCreatedBy = 9, kLastLogin = 10, kGeneration = 11;
}
namespace api_token_tag {
constexpr std::uint8_t kId = 1, kSecretHash = 2, kName = 3, kOwner = 4, kRole = 5, kProfile = 6,
                       kCreated = 7, kExpires = 8, kRevoked = 9;
}

constexpr std::size_t kSha256Size = 32;

// The explicit byte mapping of Role (the enumerators' order is not the format).
constexpr std::array kRoles = {ca::Role::kAdministrator, ca::Role::kRaOfficer, ca::Role::kAuditor};

std::uint8_t role_byte(ca::Role role) {
  for (std::size_t i = 0; i < kRoles.size(); ++i) {
    if (kRoles[i] == role) return static_cast<std::uint8_t>(i);
  }
  return static_cast<std::uint8_t>(kRoles.size() - 1);  // unreachable: the enum is closed
}

base::Result<ca::Role> role_from(const Decoder& d, std::uint8_t tag, ByteView v) {
  SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, static_cast<std::uint8_t>(kRoles.size() - 1)));
  return kRoles[b];
}

base::Result<std::uint32_t> u32_from(const Decoder& d, std::uint8_t tag, ByteView v) {
  SIGNET_ASSIGN_OR_RETURN(auto n, d.u64(tag, v));
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    return d.corrupt("field " + std::to_string(tag) + " does not fit 32 bits");
  }
  return static_cast<std::uint32_t>(n);
}

}  // namespace

void encode(const ca::OperatorRecord& r, Bytes& out) {
  out.clear();
  out.push_back(kFormatVersion);
  Writer w(out);
  w.text(operator_tag::kName, r.name);
  w.u8(operator_tag::kRole, role_byte(r.role));
  w.text(operator_tag::kPasswordHash, r.password_hash);
  w.u8(operator_tag::kDisabled, r.disabled ? 1 : 0);
  w.optional_bytes(operator_tag::kCertificateFingerprint, r.certificate_fingerprint);
  w.u64(operator_tag::kFailedLogins, r.failed_logins);
  if (r.locked_until) w.time(operator_tag::kLockedUntil, *r.locked_until);
  w.time(operator_tag::kCreated, r.created);
  w.text(operator_tag::kCreatedBy, r.created_by);
  if (r.last_login) w.time(operator_tag::kLastLogin, *r.last_login);
  w.u64(operator_tag::kGeneration, r.generation);
}

base::Result<ca::OperatorRecord> decode_operator(ByteView data, std::string_view table,
                                                 ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::OperatorRecord r;
  bool has_role = false;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case operator_tag::kName:
        r.name = Decoder::text(v);
        break;
      case operator_tag::kRole: {
        SIGNET_ASSIGN_OR_RETURN(r.role, role_from(d, tag, v));
        has_role = true;
        break;
      }
      case operator_tag::kPasswordHash:
        r.password_hash = Decoder::text(v);
        break;
      case operator_tag::kDisabled: {
        SIGNET_ASSIGN_OR_RETURN(auto b, d.u8(tag, v, 1));
        r.disabled = b == 1;
        break;
      }
      case operator_tag::kCertificateFingerprint:
        if (v.size() != kSha256Size) {
          return d.corrupt("the certificate fingerprint has " + std::to_string(v.size()) +
                           " bytes, expected 32");
        }
        r.certificate_fingerprint.assign(v.begin(), v.end());
        break;
      case operator_tag::kFailedLogins: {
        SIGNET_ASSIGN_OR_RETURN(r.failed_logins, u32_from(d, tag, v));
        break;
      }
      case operator_tag::kLockedUntil: {
        SIGNET_ASSIGN_OR_RETURN(r.locked_until, d.time(tag, v));
        break;
      }
      case operator_tag::kCreated: {
        SIGNET_ASSIGN_OR_RETURN(r.created, d.time(tag, v));
        break;
      }
      case operator_tag::kCreatedBy:
        r.created_by = Decoder::text(v);
        break;
      case operator_tag::kLastLogin: {
        SIGNET_ASSIGN_OR_RETURN(r.last_login, d.time(tag, v));
        break;
      }
      case operator_tag::kGeneration: {
        SIGNET_ASSIGN_OR_RETURN(r.generation, u32_from(d, tag, v));
        break;
      }
      default:
        break;  // a field from a newer build
    }
    return base::ok();
  }));
  if (r.name.empty()) return d.corrupt("the operator name is missing");
  if (!has_role) return d.corrupt("the operator's role is missing");
  return r;
}

void encode(const ca::ApiTokenRecord& r, Bytes& out) {
  out.clear();
  out.push_back(kFormatVersion);
  Writer w(out);
  w.text(api_token_tag::kId, r.id);
  w.bytes(api_token_tag::kSecretHash, r.secret_hash);
  w.text(api_token_tag::kName, r.name);
  w.text(api_token_tag::kOwner, r.owner);
  w.u8(api_token_tag::kRole, role_byte(r.role));
  // Written even when empty, so that an empty entry survives.
  for (const auto& profile : r.profiles) w.bytes(api_token_tag::kProfile, base::as_bytes(profile));
  w.time(api_token_tag::kCreated, r.created);
  if (r.expires) w.time(api_token_tag::kExpires, *r.expires);
  if (r.revoked) w.time(api_token_tag::kRevoked, *r.revoked);
}

base::Result<ca::ApiTokenRecord> decode_api_token(ByteView data, std::string_view table,
                                                  ByteView key) {
  const Decoder d(table, key);
  SIGNET_ASSIGN_OR_RETURN(ByteView body, d.body(data));
  ca::ApiTokenRecord r;
  bool has_role = false, has_hash = false;
  SIGNET_TRY(d.fields(body, [&](std::uint8_t tag, ByteView v) -> base::Result<void> {
    switch (tag) {
      case api_token_tag::kId:
        r.id = Decoder::text(v);
        break;
      case api_token_tag::kSecretHash:
        if (v.size() != kSha256Size) {
          return d.corrupt("the secret hash has " + std::to_string(v.size()) +
                           " bytes, expected 32");
        }
        r.secret_hash.assign(v.begin(), v.end());
        has_hash = true;
        break;
      case api_token_tag::kName:
        r.name = Decoder::text(v);
        break;
      case api_token_tag::kOwner:
        r.owner = Decoder::text(v);
        break;
      case api_token_tag::kRole: {
        SIGNET_ASSIGN_OR_RETURN(r.role, role_from(d, tag, v));
        has_role = true;
        break;
      }
      case api_token_tag::kProfile:
        r.profiles.push_back(Decoder::text(v));
        break;
      case api_token_tag::kCreated: {
        SIGNET_ASSIGN_OR_RETURN(r.created, d.time(tag, v));
        break;
      }
      case api_token_tag::kExpires: {
        SIGNET_ASSIGN_OR_RETURN(r.expires, d.time(tag, v));
        break;
      }
      case api_token_tag::kRevoked: {
        SIGNET_ASSIGN_OR_RETURN(r.revoked, d.time(tag, v));
        break;
      }
      default:
        break;  // a field from a newer build
    }
    return base::ok();
  }));
  if (r.id.empty()) return d.corrupt("the API token id is missing");
  if (!has_hash) return d.corrupt("the API token's secret hash is missing");
  if (!has_role) return d.corrupt("the API token's role is missing");
  return r;
}

}  // namespace signet::store::codec
