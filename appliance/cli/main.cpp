// signet: the operator's command line. See `signet --help` and README.md.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "appliance/cli/commands.h"
#include "appliance/cli/remote.h"
#include "appliance/core/context.h"

namespace {

// No core dumps: a dump of this process could hold a PIN read moments earlier.
void harden_process() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::umask(077);
}

}  // namespace

int main(int argc, char** argv) {
  harden_process();
  using signet::appliance::Action;
  using signet::appliance::GlobalOptions;
  using signet::appliance::RemoteOptions;

  CLI::App app{
      "signet: operate the Signet PKI appliance (CAs with keys on PKCS#11 tokens, an LMDB "
      "inventory).\nPINs are read from --pin-file / SIGNET_PIN_FILE or prompted for; never "
      "from arguments.\nWhile signetd runs it owns the state directory: signet then works "
      "through its REST API (as with --server URL), with the API token read from --token-file "
      "/ SIGNET_API_TOKEN_FILE; commands the API does not offer are refused.",
      "signet"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "signet 0.1.0");
  GlobalOptions options = GlobalOptions::from_environment(SIGNET_DEFAULT_PKCS11_MODULE);
  RemoteOptions remote = RemoteOptions::from_environment();
  signet::appliance::add_global_options(app, options, remote);
  app.fallthrough();

  Action selected;
  signet::appliance::register_token_commands(app, selected);
  signet::appliance::register_ca_commands(app, selected);
  signet::appliance::register_cert_commands(app, selected);
  signet::appliance::register_profile_commands(app, selected);
  signet::appliance::register_order_commands(app, selected);
  signet::appliance::register_alert_commands(app, selected);
  signet::appliance::register_audit_commands(app, selected);
  signet::appliance::register_crl_commands(app, selected);
  signet::appliance::register_ocsp_commands(app, selected);
  signet::appliance::register_store_commands(app, selected);
  signet::appliance::register_card_commands(app, selected);
  signet::appliance::register_config_commands(app, selected);
  signet::appliance::register_doctor_command(app, selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!selected) {
    std::cerr << "signet: error: no command given; see signet --help\n";
    return 2;
  }
  signet::appliance::ApplianceContext context(options);
  // Smart cards are this machine's hardware: card commands run here, except enroll, renew and
  // rekey, which go through a running signetd's API (it owns the store they write).
  const bool local_only =
      app.got_subcommand("card") && !signet::appliance::is_remote_card_command(app);
  // A running signetd owns the store: work through its API rather than beside it.
  // (`signet config ...` and `signet audit verify --offline` read files only, `signet doctor`
  // inspects the running daemon from outside: they run here either way.)
  const bool runs_here = local_only || signet::appliance::is_local_only_command(app) ||
                         signet::appliance::is_offline_audit_command(app) ||
                         app.get_subcommand("doctor")->parsed();
  auto target = runs_here ? signet::base::Result<std::optional<signet::appliance::RemoteTarget>>(
                                std::optional<signet::appliance::RemoteTarget>())
                          : signet::appliance::remote_target(remote, context.state_dir());
  if (!target) {
    std::cerr << "signet: error: " << target.error().describe() << "\n";
    return 1;
  }
  if (*target) return signet::appliance::run_remote(argc, argv, app, options, remote, **target);
  auto result = selected(context);
  if (!result) {
    std::cerr << "signet: error: " << result.error().describe() << "\n";
    return 1;
  }
  return 0;
}
