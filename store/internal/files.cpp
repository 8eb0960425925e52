#include "store/internal/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace signet::store::files {

namespace {

namespace fs = std::filesystem;
using base::Error;
using base::ErrorCode;

Error file_error(int err, const std::string& what, const fs::path& path) {
  const std::string message =
      what + " '" + path.string() + "': " + std::generic_category().message(err);
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
      return Error(ErrorCode::kPermissionDenied, message);
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return Error(ErrorCode::kStorageFull, message);
    default:
      return Error(ErrorCode::kIoError, message);
  }
}

// Makes one directory level; fine when it exists as a directory.
base::Result<void> make_directory(const fs::path& dir, const char* what) {
  if (::mkdir(dir.c_str(), 0700) == 0) return base::ok();
  const int err = errno;
  if (err == EEXIST) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return base::ok();
    return Error(ErrorCode::kIoError,
                 std::string("the ") + what + " '" + dir.string() + "' is not a directory");
  }
  if (err == ENOENT) {
    return Error(ErrorCode::kIoError, std::string("cannot create the ") + what + " '" +
                                          dir.string() + "': its parent directory does not exist");
  }
  if (err == ENOTDIR) {
    return Error(ErrorCode::kIoError, std::string("cannot create the ") + what + " '" +
                                          dir.string() +
                                          "': a component of its path is not a directory");
  }
  return file_error(err, std::string("cannot create the ") + what, dir);
}

}  // namespace

base::Result<fs::path> prepare_store_directory(const fs::path& state_dir) {
  SIGNET_TRY(make_directory(state_dir, "state directory"));
  fs::path store_dir = state_dir / kStoreSubdirectory;
  SIGNET_TRY(make_directory(store_dir, "store directory"));
  if (::access(store_dir.c_str(), W_OK | X_OK) != 0) {
    return file_error(errno, "the store directory is not writable:", store_dir);
  }
  return store_dir;
}

base::Result<void> prepare_empty_directory(const fs::path& dir, std::string_view purpose) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      return Error(ErrorCode::kInvalidArgument,
                   "the " + std::string(purpose) + " '" + dir.string() + "' is not a directory");
    }
    if (!fs::is_empty(dir, ec)) {
      return Error(ErrorCode::kAlreadyExists, "the " + std::string(purpose) + " '" + dir.string() +
                                                  "' is not empty; choose a new or empty one");
    }
    return base::ok();
  }
  return make_directory(dir, std::string(purpose).c_str());
}

base::Result<void> sync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return file_error(errno, "cannot open", path);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return file_error(err, "cannot sync", path);
  return base::ok();
}

base::Result<void> copy_file_durably(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::exists(to, ec)) {
    return Error(ErrorCode::kAlreadyExists, "'" + to.string() + "' already exists");
  }
  fs::path partial = to;
  partial += ".partial";
  fs::remove(partial, ec);  // left by an earlier interrupted copy
  if (!fs::copy_file(from, partial, fs::copy_options::none, ec)) {
    return file_error(ec.value(), "cannot copy '" + from.string() + "' to", partial);
  }
  ::chmod(partial.c_str(), 0600);
  SIGNET_TRY(sync_path(partial));
  if (::rename(partial.c_str(), to.c_str()) != 0) {
    return file_error(errno, "cannot rename '" + partial.string() + "' to", to);
  }
  return sync_path(to.parent_path());
}

}  // namespace signet::store::files
