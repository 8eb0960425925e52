#include "firmware-config/versions.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <toml.hpp>
#include <utility>

#include "firmware-config/internal/toml_text.h"
#include "firmware-config/loader.h"

namespace signet::firmware_config {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
namespace fs = std::filesystem;

// Writes `data` to a new file (O_EXCL, 0600) and syncs it; kAlreadyExists when it exists.
Result<void> write_new_file(const fs::path& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Error(ErrorCode::kAlreadyExists, path.string() + " exists");
    return Error(ErrorCode::kIoError,
                 "cannot create '" + path.string() + "': " + std::strerror(errno));
  }
  bool ok = true;
  for (std::size_t done = 0; ok && done < data.size();) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Error(ErrorCode::kIoError, "cannot write '" + path.string() + "'");
  return base::ok();
}

Result<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read '" + path.string() + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

fs::path text_path(const fs::path& dir, unsigned n) {
  return dir / ("v" + std::to_string(n) + ".toml");
}
fs::path meta_path(const fs::path& dir, unsigned n) {
  return dir / ("v" + std::to_string(n) + ".meta.toml");
}

Result<ConfigVersion> read_meta(const fs::path& dir, unsigned n) {
  SIGNET_ASSIGN_OR_RETURN(auto text, read_text(meta_path(dir, n)));
  try {
    std::istringstream in(text);
    const auto doc = toml::parse(in, meta_path(dir, n).string());
    ConfigVersion v;
    v.number = n;
    v.applied_by = toml::find<std::string>(doc, "applied_by");
    v.applied_at = toml::find<std::string>(doc, "applied_at");
    v.action = toml::find<std::string>(doc, "action");
    v.source = toml::find<std::string>(doc, "source");
    const auto sequence = toml::find_or(doc, "bundle_sequence", std::int64_t{0});
    if (sequence < 0) throw std::out_of_range("bundle_sequence");
    v.bundle_sequence = static_cast<std::uint64_t>(sequence);
    return v;
  } catch (const std::exception&) {
    return Error(ErrorCode::kStorageError,
                 "the record of configuration version " + std::to_string(n) + " is damaged");
  }
}

// An exclusive flock on <dir>/.lock for as long as it lives: importers check the last bundle
// sequence and record the next version under it.
class DirectoryLock {
 public:
  static Result<DirectoryLock> acquire(const fs::path& dir) {
    const auto path = dir / ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Error(ErrorCode::kIoError,
                   "cannot open '" + path.string() + "': " + std::strerror(errno));
    }
    DirectoryLock lock(fd);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        return Error(ErrorCode::kIoError,
                     "cannot lock '" + path.string() + "': " + std::strerror(errno));
      }
    }
    return lock;
  }
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  ~DirectoryLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

fs::path exported_path(const fs::path& dir) { return dir / "last-exported-sequence"; }

// Key path -> value, in document order, from to_toml's output.
std::vector<std::pair<std::string, std::string>> flatten(const Configuration& c) {
  std::vector<std::pair<std::string, std::string>> out;
  std::map<std::string, int> array_index;
  std::string prefix;
  std::istringstream in(to_toml(c));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    if (line.rfind("[[", 0) == 0) {
      const auto name = line.substr(2, line.size() - 4);
      prefix = name + "[" + std::to_string(array_index[name]++) + "].";
    } else if (line.front() == '[') {
      prefix = line.substr(1, line.size() - 2) + ".";
    } else if (const auto eq = line.find(" = "); eq != std::string::npos) {
      out.emplace_back(prefix + line.substr(0, eq), line.substr(eq + 3));
    }
  }
  return out;
}

}  // namespace

Result<std::vector<ConfigVersion>> ConfigHistory::list() const {
  std::vector<ConfigVersion> out;
  std::error_code error;
  if (!fs::exists(directory_, error)) return out;
  for (unsigned n = 1; fs::exists(text_path(directory_, n), error); ++n) {
    SIGNET_ASSIGN_OR_RETURN(auto v, read_meta(directory_, n));
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::string> ConfigHistory::text(unsigned number) const {
  std::error_code error;
  if (number == 0 || !fs::exists(text_path(directory_, number), error)) {
    return Error(ErrorCode::kNotFound, "there is no configuration version " +
                                           std::to_string(number) + " in " + directory_.string());
  }
  return read_text(text_path(directory_, number));
}

Result<ConfigVersion> ConfigHistory::record(std::string_view text, ConfigVersion meta) {
  std::error_code error;
  // Made (0700) only when missing: signetd records imports in the directory that exists, under
  // a seccomp filter that allows neither mkdir nor fchmodat.
  if (!fs::exists(directory_, error)) {
    fs::create_directories(directory_, error);
    if (error) {
      return Error(ErrorCode::kIoError,
                   "cannot create '" + directory_.string() + "': " + error.message());
    }
    fs::permissions(directory_, fs::perms::owner_all, error);
  }
  SIGNET_ASSIGN_OR_RETURN(auto lock, DirectoryLock::acquire(directory_));
  if (meta.bundle_sequence != 0) SIGNET_TRY(check_bundle_sequence(meta.bundle_sequence));
  unsigned n = 1;
  while (fs::exists(text_path(directory_, n), error)) ++n;
  for (;; ++n) {
    auto written = write_new_file(text_path(directory_, n), text);
    if (written) break;
    if (written.error().code() != ErrorCode::kAlreadyExists) return written.error();
  }
  meta.number = n;
  const std::string meta_text =
      "version = " + std::to_string(n) +
      "\napplied_by = " + internal::toml_quoted(meta.applied_by) +
      "\napplied_at = " + internal::toml_quoted(meta.applied_at) +
      "\naction = " + internal::toml_quoted(meta.action) +
      "\nsource = " + internal::toml_quoted(meta.source) + "\n" +
      (meta.bundle_sequence == 0
           ? std::string()
           : "bundle_sequence = " + std::to_string(meta.bundle_sequence) + "\n");
  SIGNET_TRY(write_new_file(meta_path(directory_, n), meta_text));
  // The active file: written beside, then renamed over, so signetd never reads half of it.
  const auto tmp = directory_ / ("signetd.toml.tmp." + std::to_string(::getpid()));
  fs::remove(tmp, error);
  SIGNET_TRY(write_new_file(tmp, text));
  fs::rename(tmp, active_file(), error);
  if (error) {
    return Error(ErrorCode::kIoError,
                 "cannot replace '" + active_file().string() + "': " + error.message());
  }
  return meta;
}

Result<std::uint64_t> ConfigHistory::last_bundle_sequence() const {
  SIGNET_ASSIGN_OR_RETURN(auto versions, list());
  std::uint64_t last = 0;
  for (const auto& v : versions) last = std::max(last, v.bundle_sequence);
  return last;
}

Result<void> ConfigHistory::check_bundle_sequence(std::uint64_t sequence) const {
  SIGNET_ASSIGN_OR_RETURN(auto versions, list());
  const ConfigVersion* newest = nullptr;
  for (const auto& v : versions) {
    if (v.bundle_sequence != 0 && (!newest || v.bundle_sequence > newest->bundle_sequence)) {
      newest = &v;
    }
  }
  if (newest == nullptr || sequence > newest->bundle_sequence) return base::ok();
  const auto last = std::to_string(newest->bundle_sequence);
  const auto version = std::to_string(newest->number);
  const std::string why =
      sequence == newest->bundle_sequence
          ? "the bundle with sequence number " + last + " was imported already, as version " +
                version + ": a replayed bundle is refused"
          : "the bundle's sequence number " + std::to_string(sequence) + " is older than " + last +
                ", that of the bundle imported as version " + version +
                ": an older bundle is refused";
  return Error(ErrorCode::kConflict, why +
                                         "; export the configuration again to get a bundle "
                                         "with a higher sequence number");
}

Result<std::uint64_t> ConfigHistory::last_exported_sequence() const {
  std::error_code error;
  if (!fs::exists(exported_path(directory_), error)) return std::uint64_t{0};
  SIGNET_ASSIGN_OR_RETURN(auto text, read_text(exported_path(directory_)));
  try {
    std::size_t used = 0;
    const auto value = std::stoull(text, &used);
    if (text.find_first_not_of(" \n", used) == std::string::npos) return std::uint64_t{value};
  } catch (const std::exception&) {
  }
  return Error(ErrorCode::kStorageError,
               "'" + exported_path(directory_).string() + "' holds no sequence number");
}

Result<void> ConfigHistory::note_exported_sequence(std::uint64_t sequence) {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) {
    return Error(ErrorCode::kIoError,
                 "cannot create '" + directory_.string() + "': " + error.message());
  }
  SIGNET_ASSIGN_OR_RETURN(auto lock, DirectoryLock::acquire(directory_));
  SIGNET_ASSIGN_OR_RETURN(auto last, last_exported_sequence());
  if (sequence <= last) return base::ok();
  const auto tmp = directory_ / ("last-exported-sequence.tmp." + std::to_string(::getpid()));
  fs::remove(tmp, error);
  SIGNET_TRY(write_new_file(tmp, std::to_string(sequence) + "\n"));
  fs::rename(tmp, exported_path(directory_), error);
  if (error) {
    return Error(ErrorCode::kIoError,
                 "cannot replace '" + exported_path(directory_).string() + "': " + error.message());
  }
  return base::ok();
}

std::vector<std::string> diff_configurations(const Configuration& from, const Configuration& to) {
  const auto a = flatten(from);
  const auto b = flatten(to);
  const auto find = [](const auto& list, const std::string& key) {
    return std::find_if(list.begin(), list.end(), [&](const auto& kv) { return kv.first == key; });
  };
  std::vector<std::string> out;
  for (const auto& [key, value] : a) {
    const auto it = find(b, key);
    if (it == b.end()) {
      out.push_back(key + ": removed (was " + value + ")");
    } else if (it->second != value) {
      out.push_back(key + ": " + value + " -> " + it->second);
    }
  }
  for (const auto& [key, value] : b) {
    if (find(a, key) == a.end()) out.push_back(key + ": added " + value);
  }
  return out;
}

}  // namespace signet::firmware_config
