#include "appliance/daemon/audit_forwarder.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <fstream>

namespace signet::appliance {

using base::Error;
using base::ErrorCode;
using base::Result;

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr auto kWarningInterval = std::chrono::seconds(60);

std::optional<std::uint64_t> read_cursor(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string text;
  if (!in || !std::getline(in, text)) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string local_hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

}  // namespace

AuditForwarder::AuditForwarder(ca::AuditSink& audit, std::filesystem::path cursor_file,
                               std::size_t batch, SyslogIdentity identity, Log log)
    : audit_(audit),
      cursor_file_(std::move(cursor_file)),
      batch_(batch),
      identity_(std::move(identity)),
      log_(std::move(log)) {}

Result<std::unique_ptr<AuditForwarder>> AuditForwarder::create(
    const firmware_config::AuditSettings& settings, ca::AuditSink& audit,
    ca::AuditCheckpointLog& head, const std::filesystem::path& state_dir, Log log) {
  if (settings.forward.empty()) return std::unique_ptr<AuditForwarder>();
  SyslogIdentity identity;
  identity.facility = syslog_facility_code(settings.syslog_facility);
  if (identity.facility < 0) {
    return Error(ErrorCode::kInvalidArgument,
                 "audit.syslog_facility: unknown facility '" + settings.syslog_facility + "'");
  }
  identity.enterprise_number = settings.enterprise_number;
  identity.hostname = local_hostname();
  identity.pid = static_cast<long>(::getpid());
  std::unique_ptr<AuditForwarder> self(new AuditForwarder(
      audit, state_dir / "audit-forward.cursor", settings.queue_size, identity, std::move(log)));
  for (const auto& name : settings.forward) {
    const bool journald = name == "journald";
    SIGNET_ASSIGN_OR_RETURN(auto socket, ForwardTarget::parse(journald ? settings.journald_socket
                                                                       : settings.syslog_address));
    self->targets_.push_back(std::make_unique<Target>(name, journald, std::move(socket)));
  }
  if (auto saved = read_cursor(self->cursor_file_)) {
    self->cursor_ = *saved;
  } else {
    SIGNET_ASSIGN_OR_RETURN(auto last, head.last_audit_event());
    self->cursor_ = last ? last->sequence : 0;
  }
  return self;
}

void AuditForwarder::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

AuditForwarder::~AuditForwarder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // What was committed up to now (the last checkpoint's event included) goes out too.
  while (drain()) {
  }
}

void AuditForwarder::run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, kPollInterval, [this] { return stopping_; })) {
    lock.unlock();
    while (drain()) {
    }
    for (auto& target : targets_) connect_idle(*target);
    lock.lock();
  }
}

bool AuditForwarder::drain() {
  auto events = audit_.list_audit(cursor_.load(), batch_);
  if (!events) {
    log_("warning: audit forwarding cannot read the audit log: " + events.error().describe());
    return false;
  }
  if (events->empty()) return false;
  for (const auto& event : *events) {
    for (auto& target : targets_) deliver(*target, event);
    cursor_ = event.sequence;
  }
  save_cursor();
  return events->size() == batch_;  // a full batch: there may be more
}

// A target without traffic is (re)connected too (at most once a second), so that its status
// says whether it is reachable before the next event needs it.
void AuditForwarder::connect_idle(Target& target) {
  if (target.socket.connected()) return;
  std::string error;
  const bool connected = target.socket.connect_if_due(error);
  target.connected = connected;
  if (connected && target.dropped.load() > 0) {
    log_("audit forwarding to " + target.name + " (" + target.socket.address() +
         ") is connected again; " + std::to_string(target.dropped.load()) +
         " events were dropped since signetd started");
  }
}

void AuditForwarder::deliver(Target& target, const ca::AuditEvent& event) {
  const std::string message =
      target.journald ? format_journald(event, identity_) : format_rfc5424(event, identity_);
  std::string error;
  const bool was_connected = target.socket.connected();
  if (target.socket.send(message, error)) {
    target.forwarded += 1;
    target.connected = true;
    if (!was_connected && target.dropped.load() > 0) {
      log_("audit forwarding to " + target.name + " (" + target.socket.address() +
           ") is connected again; " + std::to_string(target.dropped.load()) +
           " events were dropped since signetd started");
    }
    return;
  }
  target.dropped += 1;
  target.connected = false;
  target.unreported_drops += 1;
  const auto now = std::chrono::steady_clock::now();
  if (now >= target.next_warning) {
    log_("warning: audit forwarding to " + target.name + " (" + target.socket.address() +
         ") dropped " + std::to_string(target.unreported_drops) + " event(s) (at sequence " +
         std::to_string(event.sequence) + "): " + error +
         "; signetd keeps serving and reconnects (warnings at most once a minute)");
    target.unreported_drops = 0;
    target.next_warning = now + kWarningInterval;
  }
}

// Mode 0600 like every file in the state directory (signet doctor checks). A failed write is
// retried with the next batch; at worst events are sent twice after a restart.
void AuditForwarder::save_cursor() {
  const auto tmp = cursor_file_.string() + ".tmp";
  const std::string text = std::to_string(cursor_.load()) + "\n";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (written) ::rename(tmp.c_str(), cursor_file_.c_str());
}

std::vector<AuditForwarder::TargetStatus> AuditForwarder::status() const {
  std::vector<TargetStatus> out;
  for (const auto& target : targets_) {
    out.push_back({target->name, target->socket.address(), target->connected.load(),
                   target->forwarded.load(), target->dropped.load()});
  }
  return out;
}

}  // namespace signet::appliance
