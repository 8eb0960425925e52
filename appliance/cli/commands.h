// The `signet` subcommands, registered on a CLI11 app. Parsing selects one Action; main()
// runs it with the ApplianceContext built from the global options, and prints its Error, if any,
// as one sentence on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "appliance/core/context.h"
#include "base/result.h"
#include "crl/scheduler.h"

namespace signet::appliance {

using Action = std::function<base::Result<void>(ApplianceContext&)>;

void register_token_commands(CLI::App& app, Action& selected);
void register_ca_commands(CLI::App& app, Action& selected);
void register_cert_commands(CLI::App& app, Action& selected);
void register_store_commands(CLI::App& app, Action& selected);
void register_profile_commands(CLI::App& app, Action& selected);
void register_order_commands(CLI::App& app, Action& selected);
void register_alert_commands(CLI::App& app, Action& selected);
// `signet audit verify --offline`: reads files only, so it runs here even beside a daemon.
bool is_offline_audit_command(const CLI::App& app);
void register_audit_commands(CLI::App& app, Action& selected);
void register_crl_commands(CLI::App& app, Action& selected);
void register_ocsp_commands(CLI::App& app, Action& selected);
// `signet card list | watch`: local PC/SC readers and smart cards.
void register_card_commands(CLI::App& app, Action& selected);
void register_config_commands(CLI::App& app, Action& selected);
// `signet doctor`: the running appliance's posture (doctor_command.cpp); runs beside signetd.
void register_doctor_command(CLI::App& app, Action& selected);
// Whether the parsed command reads no state (`signet config ...`): it then runs locally even
// while signetd owns the state directory.
bool is_local_only_command(const CLI::App& app);
// Under `signet cert`: issue, renew, rekey, reissue, revoke, import.
void register_cert_lifecycle_commands(CLI::App* cert, Action& selected);

// Prints what the revocation scheduler did; an error when any of it failed.
base::Result<void> report_revocation_work(ApplianceContext& ctx,
                                          const std::vector<crl::WorkOutcome>& outcomes,
                                          base::TimePoint now);
// After a revocation: regenerates the CA's CRLs when it does so on revocation. Failures are
// warnings (the revocation itself is recorded; `signet crl refresh` catches up).
void refresh_after_revocation(ApplianceContext& ctx, const std::string& ca_name);

}  // namespace signet::appliance
