#include <openssl/crypto.h>

#include <cstdio>
#include <iostream>

#include "appliance/cli/cert_support.h"
#include "appliance/cli/output.h"
#include "appliance/cli/remote.h"
#include "pki/pem.h"

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;
using nlohmann::json;

std::string query_string(std::initializer_list<std::pair<const char*, std::string>> params) {
  std::string query;
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    query += (query.empty() ? "?" : "&") + std::string(name) + "=" + url_encode(value);
  }
  return query;
}

std::string certificate_target(const std::string& id, const std::string& suffix,
                               const std::string& ca_name) {
  return "/api/v1/certificates/" + url_encode(id) + (suffix.empty() ? "" : "/" + suffix) +
         query_string({{"ca", ca_name}});
}

Result<std::string> read_csr_pem(const std::string& path) {
  SIGNET_ASSIGN_OR_RETURN(auto data, read_input_file(path));
  std::string text(base::as_chars(data));
  if (text.find("-----BEGIN") != std::string::npos) return text;
  return pki::pem_encode("CERTIFICATE REQUEST", data);
}

std::string json_text(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

Result<std::optional<ca::LocalKeyDelivery>> take_local_key(json& reply) {
  if (!reply.contains("pfx_base64")) return std::optional<ca::LocalKeyDelivery>();
  ca::LocalKeyDelivery delivery;
  SIGNET_ASSIGN_OR_RETURN(delivery.pfx, base::from_base64(json_text(reply, "pfx_base64")));
  auto& password = reply["pfx_password"].get_ref<std::string&>();
  delivery.password = base::SecureBuffer::copy_of(base::as_bytes(password));
  OPENSSL_cleanse(password.data(), password.size());
  SIGNET_ASSIGN_OR_RETURN(delivery.profile,
                          pki::parse_pfx_profile(json_text(reply, "pfx_profile")));
  reply.erase("pfx_base64");
  reply.erase("pfx_password");
  return std::optional(std::move(delivery));
}

Result<void> show_remote_order_result(RemoteContext& ctx, json reply, const ResultOutput& output,
                                      const std::string& verb) {
  std::string pem = json_text(reply, "pem");
  if (output.chain) pem += json_text(reply, "chain_pem");
  reply.erase("chain_pem");
  SIGNET_ASSIGN_OR_RETURN(auto local_key, take_local_key(reply));
  if (local_key) SIGNET_TRY(deliver_pfx(*local_key, output.pfx_out, output.password_out));
  if (!output.out.empty()) SIGNET_TRY(write_output(output.out, base::as_bytes(pem)));
  if (ctx.json) {
    reply["pem"] = pem;
    if (local_key) {
      reply["pfx_out"] = output.pfx_out;
      reply["password_out"] =
          output.password_out.empty() ? json(nullptr) : json(output.password_out);
    }
    print_json(reply);
    return base::ok();
  }
  // As show_order_result(): the PEM takes stdout when it has no file and no PFX carries it.
  const bool pem_on_stdout = output.out.empty() && !local_key;
  if (pem_on_stdout) SIGNET_TRY(write_output("", base::as_bytes(pem)));
  std::FILE* summary = pem_on_stdout ? stderr : stdout;
  std::fprintf(summary, "%s certificate %s for '%s' (order %s).\n", verb.c_str(),
               json_text(reply, "serial").c_str(), json_text(reply, "subject").c_str(),
               json_text(reply, "order_id").c_str());
  print_certificate_json(reply, summary);
  for (const auto& warning : reply.value("warnings", json::array())) {
    if (warning.is_string()) {
      std::fprintf(summary, "Warning (soft-fail):   %s\n", warning.get<std::string>().c_str());
    }
  }
  if (!output.out.empty()) std::fprintf(summary, "Certificate written to %s\n", output.out.c_str());
  if (local_key) {
    std::fprintf(
        summary, "PKCS#12 (%s) written to %s%s\n",
        std::string(pki::to_string(local_key->profile)).c_str(), output.pfx_out.c_str(),
        output.password_out.empty() ? "" : (", password in " + output.password_out).c_str());
  }
  std::fflush(summary);
  return base::ok();
}

void show_remote_revocation(RemoteContext& ctx, const json& reply) {
  if (ctx.json) {
    print_json(reply);
    return;
  }
  std::cout << "Revoked certificate " << json_text(reply, "serial") << " of '"
            << json_text(reply, "subject") << "' (order " << json_text(reply, "order_id") << ").\n";
  std::cout.flush();
  print_certificate_json(reply);
}

}  // namespace signet::appliance
