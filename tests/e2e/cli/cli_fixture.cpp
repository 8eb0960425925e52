#include "tests/e2e/cli/cli_fixture.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

namespace signet::test {

std::string signet_binary() {
  const char* dir = std::getenv("SIGNET_BINARY_DIR");
  return std::string(dir ? dir : ".") + "/appliance/signet";
}

CommandResult python(const std::string& script, const std::string& args) {
  return run_command("/usr/bin/python3 -c '" + script + "' " + args);
}

CliFixture::CliFixture(bool init_token) {
  if (!init_token) return;
  auto init = signet("token init --label signet");
  INFO(init.output);
  REQUIRE(init.exit_code == 0);
  REQUIRE(std::filesystem::exists(pin_file()));
}

std::vector<std::string> CliFixture::base_env() const {
  return {"SIGNET_STATE=" + state(), "SIGNET_TOKEN=signet", "SIGNET_PIN_FILE=" + pin_file()};
}

namespace {

// env(1) takes its -u options before any assignment; later assignments win.
std::string env_prefix(const std::vector<std::string>& base,
                       const std::vector<std::string>& extra) {
  std::string unsets, assignments;
  std::vector<std::string> unset_names;
  for (const auto* list : {&base, &extra}) {
    for (const auto& item : *list) {
      if (item.rfind("-u ", 0) == 0) unset_names.push_back(item.substr(3));
    }
  }
  for (const auto& name : unset_names) unsets += " -u " + name;
  // An unset in `extra` also drops the base's assignment of that name.
  auto unset_by_extra = [&](const std::string& item) {
    for (const auto& e : extra) {
      if (e.rfind("-u ", 0) == 0 && item.rfind(e.substr(3) + "=", 0) == 0) return true;
    }
    return false;
  };
  for (const auto* list : {&base, &extra}) {
    for (const auto& item : *list) {
      if (item.rfind("-u ", 0) != 0 && !unset_by_extra(item)) assignments += " '" + item + "'";
    }
  }
  return "env" + unsets + assignments;
}

}  // namespace

CommandResult CliFixture::signet(const std::string& args,
                                 const std::vector<std::string>& env) const {
  // signet finds the state directory's SoftHSM configuration by itself.
  auto base = base_env();
  base.push_back("-u SOFTHSM2_CONF");
  return run_command("cd '" + dir_.str() + "' && " + env_prefix(base, env) + " " + signet_binary() +
                     " " + args);
}

CommandResult CliFixture::shell(const std::string& command,
                                const std::vector<std::string>& env) const {
  auto base = base_env();
  base.push_back("SOFTHSM2_CONF=" + softhsm_conf());
  return run_command("cd '" + dir_.str() + "' && " + env_prefix(base, env) + " sh -c '" + command +
                     "'");
}

std::string CliFixture::make_csr(const std::string& name, const std::string& key_options,
                                 const std::string& subject, const std::string& san) const {
  std::string command = "openssl req -new -newkey " + key_options + " -nodes -keyout " +
                        path(name + ".key") + " -subj \"" + subject + "\" -out " +
                        path(name + ".csr");
  if (!san.empty()) command += " -addext \"subjectAltName=" + san + "\"";
  auto result = run_command(command);
  INFO(result.output);
  REQUIRE(result.exit_code == 0);
  return path(name + ".csr");
}

void CliFixture::create_root_and_issuing() const {
  auto root = signet(
      "ca create-root --name root --subject \"CN=Test Root,O=Signet Tests,C=DE\" --key ec-p384");
  INFO(root.output);
  REQUIRE(root.exit_code == 0);
  auto issuing = signet(
      "ca create-intermediate --name issuing --parent root --subject "
      "\"CN=Test Issuing,O=Signet Tests,C=DE\" --key ec-p256 --path-length 0");
  INFO(issuing.output);
  REQUIRE(issuing.exit_code == 0);
}

}  // namespace signet::test
