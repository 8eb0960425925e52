// Helpers shared by tests: temporary directories that clean up after themselves, running an
// external tool (openssl, certtool, python3, softhsm2-util) and capturing its output, and
// reading/writing whole files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/bytes.h"

namespace signet::test {

// A fresh directory under $TMPDIR, removed recursively on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` through /bin/sh with extra environment assignments ("NAME=value").
CommandResult run_command(const std::string& command, const std::vector<std::string>& env = {});

base::Bytes read_file(const std::filesystem::path& path);
std::string read_text(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, base::ByteView data);
void write_text(const std::filesystem::path& path, const std::string& text, int mode = 0644);

// The directory with fixtures made by independent tools (tests/data).
std::filesystem::path test_data_dir();

}  // namespace signet::test
