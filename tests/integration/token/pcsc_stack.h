// PcscStack: the real PC/SC stack for a test, without hardware: pcscd in the foreground as a
// child process (its own process group), which loads vsmartcard's virtual reader driver (vpcd,
// configured by /etc/reader.conf.d/vpcd: readers "Virtual PCD 00 00" and "... 00 01", waiting
// for a virtual card on 127.0.0.1:35963 and :35964), and virtual cards `vicc -t iso7816` that
// connect to it, which pcscd sees as a card inserted into "Virtual PCD 00 00"; killing vicc
// removes the card.
//
// pcscd's socket (/run/pcscd/pcscd.comm) and vpcd's ports are fixed, so tests using this hold
// the ctest RESOURCE_LOCK "pcscd" and run serially. The destructor kills every process group
// it started (SIGTERM, then SIGKILL after a bounded wait) and reaps them: no pcscd is left.
// Every wait is bounded; a failed wait throws std::runtime_error with the child's log.
// Not thread-safe; use it from the test's main thread (the children's parent-death signal is
// tied to the thread that started them).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

#include "tests/support/test_support.h"

namespace signet::test {

class PcscStack {
 public:
  static constexpr const char* kReader = "Virtual PCD 00 00";
  static constexpr const char* kSecondReader = "Virtual PCD 00 01";
  // The ATR of `vicc -t iso7816`.
  static constexpr const char* kVirtualCardAtr = "3B951381018073FF01000B";

  // Starts pcscd and waits until it lists the virtual readers.
  PcscStack();
  ~PcscStack();
  PcscStack(const PcscStack&) = delete;
  PcscStack& operator=(const PcscStack&) = delete;

  // Connects a virtual card (vicc) and waits until pcscd reports it present.
  void insert_card();
  // Kills vicc and waits until pcscd reports the reader empty.
  void remove_card();
  // Stops pcscd (SIGTERM to its group; the card's vicc exits with it) and waits for it.
  void stop_pcscd();
  // Starts pcscd again (as the constructor does).
  void start_pcscd();

  bool pcscd_running() const { return pcscd_ > 0; }
  const TempDir& dir() const { return dir_; }

  // Polls `condition` every 50 ms until it holds or `limit` passes; false on timeout.
  static bool wait_until(const std::function<bool()>& condition,
                         std::chrono::milliseconds limit = std::chrono::seconds(20));

 private:
  pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
              const std::string& log_name);
  // SIGTERM to the group, then SIGKILL after `grace`; reaps the leader.
  static void kill_group(pid_t& leader, std::chrono::milliseconds grace);
  bool card_present() const;
  std::string logs() const;

  TempDir dir_;
  pid_t pcscd_ = -1;
  pid_t vicc_ = -1;
  int pcscd_starts_ = 0;
  int vicc_starts_ = 0;
};

}  // namespace signet::test
