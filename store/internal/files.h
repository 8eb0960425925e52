// File-system steps around the LMDB environment: making the state directory, fsyncing what we
// create, copying a data file durably. Errors name the path and what was wrong (kIoError,
// kPermissionDenied, kAlreadyExists). Plain functions; thread-safe.
#pragma once

#include <filesystem>
#include <string_view>

#include "base/result.h"

namespace signet::store::files {

inline constexpr std::string_view kStoreSubdirectory = "store";
inline constexpr std::string_view kDataFile = "data.mdb";

// Makes `state_dir` (its parent must exist) and `<state_dir>/store` (mode 0700) when missing,
// and checks that the latter is a writable directory. Returns `<state_dir>/store`.
base::Result<std::filesystem::path> prepare_store_directory(const std::filesystem::path& state_dir);

// Makes `dir` when missing and refuses one that is not an empty directory.
base::Result<void> prepare_empty_directory(const std::filesystem::path& dir,
                                           std::string_view purpose);

// fsync of a file or a directory (so that a rename or a new entry in it is durable).
base::Result<void> sync_path(const std::filesystem::path& path);

// Copies `from` to `to` via `to` + ".partial": write, fsync, rename, fsync the directory. So
// `to` is either absent or complete, even across a crash. Refuses an existing `to`.
base::Result<void> copy_file_durably(const std::filesystem::path& from,
                                     const std::filesystem::path& to);

}  // namespace signet::store::files
