// signet doctor: the running appliance's security posture, checked from outside the daemon
// (the lock file, /proc/<pid>, the state directory, its TLS, /healthz) and printed as one line
// per check; --json prints the same as an object. Any problem makes the exit status 1.
// Runs beside a running signetd (it reads, never writes, the state directory).
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "appliance/cli/api_client.h"
#include "appliance/cli/commands.h"
#include "appliance/core/daemon_lock.h"
#include "base/openssl.h"

namespace signet::appliance {
namespace {

namespace fs = std::filesystem;
using base::Result;

enum class Verdict { kOk, kWarning, kProblem };

struct Finding {
  std::string check;
  Verdict verdict;
  std::string detail;
};

const char* to_string(Verdict v) {
  return v == Verdict::kOk ? "ok" : v == Verdict::kWarning ? "warning" : "problem";
}

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::map<std::string, std::string> proc_status(long pid) {
  std::map<std::string, std::string> fields;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find(":\t");
    if (tab != std::string::npos) fields[line.substr(0, tab)] = line.substr(tab + 2);
  }
  return fields;
}

// "Max core file size  0  0  bytes" -> the soft limit's text.
std::string core_limit(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Max core file size", 0) != 0) continue;
    std::istringstream fields(line.substr(18));
    std::string soft;
    fields >> soft;
    return soft;
  }
  return "";
}

void check_process(long pid, std::vector<Finding>& out) {
  auto status = proc_status(pid);
  if (status.empty()) {
    out.push_back({"process", Verdict::kProblem, "cannot read /proc/" + std::to_string(pid)});
    return;
  }
  std::istringstream uids(status["Uid"]);
  long uid = -1;
  uids >> uid;
  out.push_back({"user", uid == 0 ? Verdict::kWarning : Verdict::kOk,
                 uid == 0 ? "signetd runs as root: set [hardening] user or run it under "
                            "appliance/systemd/signetd.service"
                          : "uid " + std::to_string(uid)});
  const std::string core = core_limit(pid);
  out.push_back({"core-dumps", core == "0" ? Verdict::kOk : Verdict::kProblem,
                 "core file size limit " + (core.empty() ? "unknown" : core)});
  struct stat info {};
  if (uid != 0 && ::stat(("/proc/" + std::to_string(pid) + "/mem").c_str(), &info) == 0) {
    // proc(5): a process that is not dumpable has the files in /proc/<pid> owned by root.
    out.push_back({"dumpable", info.st_uid == 0 ? Verdict::kOk : Verdict::kProblem,
                   info.st_uid == 0 ? "not dumpable" : "dumpable: memory readable by its user"});
  }
  const bool filtered = status["Seccomp"] == "2";
  out.push_back({"seccomp", filtered ? Verdict::kOk : Verdict::kWarning,
                 filtered ? "syscall filter installed" : "no syscall filter (see signetd's log)"});
}

// Everything in the state directory must be private; the appliance CA certificate is public.
void check_state(const fs::path& state, std::vector<Finding>& out) {
  struct stat info {};
  if (::stat(state.c_str(), &info) != 0) {
    out.push_back({"state-directory", Verdict::kProblem, "cannot stat " + state.string()});
    return;
  }
  const bool dir_private = (info.st_mode & 077) == 0;
  out.push_back({"state-directory", dir_private ? Verdict::kOk : Verdict::kProblem,
                 state.string() + " has mode " + octal(info.st_mode) +
                     (dir_private ? "" : ": chmod 700 " + state.string())});
  std::vector<std::string> loose;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(state, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->path().filename() == "appliance-ca.pem" || it->is_symlink()) continue;
    if (::lstat(it->path().c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
      loose.push_back(it->path().string() + " (" + octal(info.st_mode) + ")");
    }
  }
  std::string detail = loose.empty() ? "no file or directory readable by group or others" : "";
  for (std::size_t i = 0; i < loose.size() && i < 5; ++i) detail += (i ? ", " : "") + loose[i];
  if (loose.size() > 5) detail += " and " + std::to_string(loose.size() - 5) + " more";
  out.push_back({"state-files", loose.empty() ? Verdict::kOk : Verdict::kProblem, detail});
}

void check_pin_file(const std::string& pin_file, std::vector<Finding>& out) {
  if (pin_file.empty()) return;
  struct stat info {};
  if (::stat(pin_file.c_str(), &info) != 0) {
    out.push_back({"pin-file", Verdict::kProblem, "cannot stat " + pin_file});
    return;
  }
  const bool ok = (info.st_mode & 077) == 0;
  out.push_back({"pin-file", ok ? Verdict::kOk : Verdict::kProblem,
                 pin_file + " has mode " + octal(info.st_mode) + (ok ? "" : ": chmod 600")});
}

Finding days_left(const std::string& what, const X509* cert) {
  int days = 0, seconds = 0;
  if (cert == nullptr || ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)) != 1) {
    return {what, Verdict::kProblem, "no certificate to check"};
  }
  const Verdict v = days < 0 || (days == 0 && seconds <= 0) ? Verdict::kProblem
                    : days < 30                             ? Verdict::kWarning
                                                            : Verdict::kOk;
  return {what, v, v == Verdict::kProblem ? "expired" : std::to_string(days) + " days left"};
}

// signetd's TLS certificate as it serves it (chain verified against the appliance CA), and
// the appliance CA certificate itself.
void check_tls(const std::string& host_port, const fs::path& ca_file, std::vector<Finding>& out) {
  base::X509Ptr ca;
  if (FILE* f = std::fopen(ca_file.c_str(), "r"); f != nullptr) {
    ca.reset(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
  }
  out.push_back(days_left("appliance-ca", ca.get()));
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  if (!ctx || SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    out.push_back({"tls-certificate", Verdict::kProblem, "cannot load " + ca_file.string()});
    return;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new_ssl_connect(ctx.get()), &BIO_free_all);
  SSL* ssl = nullptr;
  if (bio) BIO_get_ssl(bio.get(), &ssl);
  if (!bio || ssl == nullptr || BIO_set_conn_hostname(bio.get(), host_port.c_str()) != 1 ||
      BIO_do_handshake(bio.get()) != 1) {
    out.push_back({"tls-certificate", Verdict::kProblem,
                   "no verified TLS handshake with " + host_port + " against " + ca_file.string()});
    return;
  }
  base::X509Ptr leaf(SSL_get1_peer_certificate(ssl));
  out.push_back(days_left("tls-certificate", leaf.get()));
}

void check_health(const std::string& url, const fs::path& ca_file, std::vector<Finding>& out) {
  auto client = ApiClient::create(url, ca_file.string(), base::SecureBuffer());
  auto reply = client ? client->send("GET", "/healthz") : Result<ApiReply>(client.error());
  if (!reply) {
    out.push_back({"token", Verdict::kProblem, "/healthz: " + reply.error().message()});
    return;
  }
  auto body = nlohmann::json::parse(reply->body, nullptr, false);
  std::string token = "unknown";
  if (body.is_object() && body.contains("checks") && body["checks"].contains("token")) {
    token = body["checks"]["token"].dump();
  }
  out.push_back({"token", reply->status == 200 ? Verdict::kOk : Verdict::kProblem,
                 "/healthz " + std::to_string(reply->status) + ", token " + token});
  // Audit forwarding ([audit] forward): present when configured; a target that is down or
  // dropped events is a warning (the appliance keeps its own log).
  if (body.is_object() && body.contains("checks") && body["checks"].contains("audit_forwarding")) {
    const auto& forwarding = body["checks"]["audit_forwarding"];
    const bool ok = forwarding.value("ok", false);
    out.push_back({"audit-forwarding", ok ? Verdict::kOk : Verdict::kWarning,
                   forwarding.value("detail", std::string())});
  }
}

void check_backups(const fs::path& dir, int max_days, std::vector<Finding>& out) {
  std::error_code error;
  fs::file_time_type newest{};
  bool found = false;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const auto manifest = entry.path() / "MANIFEST.json";
    if (!fs::exists(manifest, error)) continue;
    const auto time = fs::last_write_time(manifest, error);
    if (!error && (!found || time > newest)) newest = time, found = true;
  }
  if (!found) {
    out.push_back({"backup", Verdict::kProblem, "no backup (MANIFEST.json) under " + dir.string()});
    return;
  }
  const auto age =
      std::chrono::duration_cast<std::chrono::hours>(fs::file_time_type::clock::now() - newest);
  const long days = static_cast<long>(age.count() / 24);
  out.push_back({"backup", days > max_days ? Verdict::kProblem : Verdict::kOk,
                 "newest backup " + std::to_string(days) + " days old (limit " +
                     std::to_string(max_days) + ")"});
}

struct DoctorOptions {
  std::string backup_dir;
  int max_backup_days = 7;
};

Result<void> doctor(ApplianceContext& ctx, const DoctorOptions& options) {
  std::vector<Finding> findings;
  const auto daemon = running_daemon(ctx.state_dir());
  if (!daemon || daemon->pid <= 0) {
    findings.push_back(
        {"signetd", Verdict::kProblem, "no signetd holds the lock of " + ctx.state_dir().string()});
  } else {
    findings.push_back({"signetd", Verdict::kOk, "pid " + std::to_string(daemon->pid)});
    check_process(daemon->pid, findings);
  }
  check_state(ctx.state_dir(), findings);
  check_pin_file(ctx.options().pin_file, findings);
  if (daemon && !daemon->https_url.empty()) {
    const auto ca_file = ctx.state_dir() / "appliance-ca.pem";
    check_tls(daemon->https_url.substr(std::string("https://").size()), ca_file, findings);
    check_health(daemon->https_url, ca_file, findings);
  }
  if (!options.backup_dir.empty()) {
    check_backups(options.backup_dir, options.max_backup_days, findings);
  }
  bool problems = false;
  nlohmann::json json = nlohmann::json::array();
  for (const auto& f : findings) {
    problems |= f.verdict == Verdict::kProblem;
    json.push_back({{"check", f.check}, {"verdict", to_string(f.verdict)}, {"detail", f.detail}});
    if (!ctx.json()) {
      std::cout << to_string(f.verdict) << "\t" << f.check << ": " << f.detail << "\n";
    }
  }
  if (ctx.json()) {
    std::cout << nlohmann::json{{"healthy", !problems}, {"checks", json}}.dump(2) << "\n";
  }
  if (problems) {
    return base::Error(base::ErrorCode::kVerificationFailed,
                       "the appliance's posture has problems (see above)");
  }
  return base::ok();
}

}  // namespace

void register_doctor_command(CLI::App& app, Action& selected) {
  auto options = std::make_shared<DoctorOptions>();
  auto* cmd = app.add_subcommand(
      "doctor",
      "check the running appliance's posture: signetd's user, core limit, dumpable flag and "
      "seccomp filter (/proc), state directory and PIN file modes, TLS certificate validity, "
      "token reachability (/healthz) and, with --backup-dir, the newest backup's age; exit "
      "status 1 when anything is a problem");
  cmd->add_option("--backup-dir", options->backup_dir,
                  "a directory holding `signet store backup` outputs (one per subdirectory)");
  cmd->add_option("--max-backup-age-days", options->max_backup_days,
                  "the age (days) beyond which the newest backup is a problem (default 7)");
  cmd->callback([&selected, options] {
    selected = [options](ApplianceContext& ctx) { return doctor(ctx, *options); };
  });
}

}  // namespace signet::appliance
