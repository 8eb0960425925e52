// signet store backup | restore
#include <fstream>
#include <iostream>
#include <memory>

#include "appliance/cli/commands.h"
#include "appliance/cli/output.h"
#include "appliance/core/softhsm_state.h"
#include "ca/audit.h"
#include "store/lmdb_store.h"

namespace signet::appliance {
namespace {

using base::Error;
using base::ErrorCode;
using base::Result;
namespace fs = std::filesystem;

Result<void> copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code error;
  fs::create_directories(to.parent_path(), error);
  fs::copy(from, to, fs::copy_options::recursive, error);
  if (error) {
    return Error(ErrorCode::kIoError, "cannot copy '" + from.string() + "' to '" + to.string() +
                                          "': " + error.message());
  }
  return base::ok();
}

Result<void> backup(ApplianceContext& ctx, const fs::path& out) {
  SIGNET_TRY(ctx.prepare_softhsm(false));
  SIGNET_ASSIGN_OR_RETURN(auto* store, ctx.store());
  // The store first: backup_to refuses a non-empty target before anything is written.
  SIGNET_TRY(store->backup_to(out));
  nlohmann::json manifest = {{"format", "signet-backup-1"},
                             {"created_at", format_time(ctx.clock().now())},
                             {"store", "store/data.mdb"}};
  if (ctx.module_is_softhsm()) {
    if (auto tokens = softhsm_token_dir(); tokens && fs::is_directory(*tokens)) {
      // SoftHSM writes token files without fsync: this copy is what makes a software token
      // survive the loss of the machine. Keep the PIN files elsewhere, never beside it.
      SIGNET_TRY(copy_tree(*tokens, out / "softhsm" / "tokens"));
      manifest["softhsm_tokens"] = "softhsm/tokens";
    }
  }
  std::ofstream(out / "MANIFEST.json") << manifest.dump(2) << "\n";
  // Written to the live store after the copy: the backup itself ends one event earlier.
  SIGNET_ASSIGN_OR_RETURN(auto* audit, ctx.audit());
  SIGNET_TRY(audit->append_audit(
      ca::make_audit_event(ctx.clock().now(), ctx.actor(), "store.backup", "store",
                           nlohmann::json{{"directory", out.string()},
                                          {"softhsm_tokens", manifest.contains("softhsm_tokens")}}
                               .dump())));
  if (ctx.json()) {
    manifest["directory"] = out.string();
    print_json(manifest);
  } else {
    std::cout << "Backed up the store"
              << (manifest.contains("softhsm_tokens") ? " and the SoftHSM tokens" : "") << " to "
              << out.string() << ".\nKeep the token PIN files separately.\n";
  }
  return base::ok();
}

Result<void> restore(ApplianceContext& ctx, const fs::path& from) {
  std::error_code error;
  if (!fs::exists(from / "store" / "data.mdb", error)) {
    return Error(ErrorCode::kNotFound,
                 "'" + from.string() + "' holds no Signet backup (no store/data.mdb)");
  }
  const bool has_tokens = fs::is_directory(from / "softhsm" / "tokens", error);
  const fs::path token_target = ctx.softhsm_dir() / "tokens";
  if (has_tokens && fs::exists(token_target, error) && !fs::is_empty(token_target, error)) {
    return Error(ErrorCode::kAlreadyExists,
                 "'" + token_target.string() +
                     "' already holds SoftHSM tokens; restore into a fresh state directory");
  }
  SIGNET_TRY(ctx.ensure_state_dir());
  SIGNET_TRY(store::LmdbStore::restore(from, ctx.state_dir()));
  if (has_tokens) {
    SIGNET_TRY(copy_tree(from / "softhsm" / "tokens", token_target));
    std::ofstream out(ctx.softhsm_dir() / "softhsm2.conf");
    out << "# SoftHSMv2 configuration of this Signet state directory (restored).\n"
        << "directories.tokendir = " << token_target.string() << "\n"
        << "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
  }
  // The restored chain's next event says where it came from, so a restored appliance's log
  // shows the discontinuity in time rather than hiding it.
  SIGNET_ASSIGN_OR_RETURN(auto* audit, ctx.audit());
  SIGNET_TRY(audit->append_audit(ca::make_audit_event(
      ctx.clock().now(), ctx.actor(), "store.restore", "store",
      nlohmann::json{{"from", from.string()}, {"softhsm_tokens", has_tokens}}.dump())));
  if (!ctx.json()) {
    std::cout << "Restored the store" << (has_tokens ? " and the SoftHSM tokens" : "") << " into "
              << ctx.state_dir().string() << ".\n";
  }
  return base::ok();
}

}  // namespace

void register_store_commands(CLI::App& app, Action& selected) {
  auto* store = app.add_subcommand("store", "the LMDB store: backup, restore");
  store->require_subcommand(1);
  {
    auto out = std::make_shared<std::string>();
    auto* cmd = store->add_subcommand(
        "backup",
        "a consistent, compacted copy of the store taken while it is in use, plus the "
        "state directory's SoftHSM token files; audited (store.backup)");
    cmd->add_option("--out", *out, "a new or empty directory")->required();
    cmd->callback([&selected, out] {
      selected = [out](ApplianceContext& ctx) { return backup(ctx, *out); };
    });
  }
  {
    auto from = std::make_shared<std::string>();
    auto* cmd = store->add_subcommand(
        "restore",
        "restore a backup into a state directory without a store; audited (store.restore)");
    cmd->add_option("--from", *from, "a directory written by 'signet store backup'")->required();
    cmd->callback([&selected, from] {
      selected = [from](ApplianceContext& ctx) { return restore(ctx, *from); };
    });
  }
}

}  // namespace signet::appliance
