// token/ against the real PC/SC stack: pcscd with vsmartcard's virtual reader, and a virtual
// card (vicc) inserted and removed by starting and killing it (pcsc_stack.h).
#include <catch2/catch.hpp>

#include "tests/integration/token/event_log.h"
#include "tests/integration/token/pcsc_stack.h"
#include "token/readers.h"

using namespace signet;
using base::ErrorCode;
using test::EventLog;
using test::PcscStack;
using Kind = token::ReaderEvent::Kind;

namespace {

token::ReaderWatcher::Options quick_options() {
  token::ReaderWatcher::Options options;
  options.min_backoff = std::chrono::milliseconds(50);
  options.max_backoff = std::chrono::milliseconds(400);
  return options;
}

std::unique_ptr<token::ReaderWatcher> watch(EventLog& log) {
  return token::ReaderWatcher::start([&log](const token::ReaderEvent& e) { log.record(e); },
                                     quick_options());
}

token::ReaderState reader_named(const std::string& name) {
  auto context = token::PcscContext::establish();
  REQUIRE(context);
  auto reader = token::find_reader(*context, name);
  INFO((reader ? std::string() : reader.error().describe()));
  REQUIRE(reader);
  return *reader;
}

}  // namespace

TEST_CASE("the virtual readers are listed, empty, then with the inserted card's ATR") {
  PcscStack stack;
  auto context = token::PcscContext::establish();
  REQUIRE(context);
  auto readers = token::list_readers(*context);
  REQUIRE(readers);
  std::vector<std::string> names;
  for (const auto& r : *readers) names.push_back(r.name);
  CHECK(std::find(names.begin(), names.end(), PcscStack::kReader) != names.end());
  CHECK(std::find(names.begin(), names.end(), PcscStack::kSecondReader) != names.end());
  CHECK_FALSE(reader_named(PcscStack::kReader).card_present);
  CHECK(reader_named(PcscStack::kReader).atr_hex().empty());

  stack.insert_card();
  auto with_card = reader_named(PcscStack::kReader);
  CHECK(with_card.card_present);
  CHECK(with_card.atr_hex() == PcscStack::kVirtualCardAtr);
  CHECK_FALSE(reader_named(PcscStack::kSecondReader).card_present);

  auto missing = token::find_reader(*context, "No Such Reader 00 00");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  CHECK(missing.error().message().rfind("no reader named 'No Such Reader 00 00' (readers: ", 0) ==
        0);
  CHECK(missing.error().message().find(PcscStack::kReader) != std::string::npos);
}

TEST_CASE("without pcscd, listing readers says pcscd is not running") {
  PcscStack stack;
  stack.stop_pcscd();
  auto context = token::PcscContext::establish();
  REQUIRE_FALSE(context);
  CHECK(context.error().code() == ErrorCode::kUnavailable);
  CHECK(context.error().message().rfind("pcscd is not running", 0) == 0);
}

TEST_CASE("the watcher reports the readers at start, then insert, remove and re-insert") {
  PcscStack stack;
  EventLog log;
  auto watcher = watch(log);
  REQUIRE(log.wait_for(Kind::kReaderAdded, PcscStack::kReader) >= 0);
  REQUIRE(log.wait_for(Kind::kReaderAdded, PcscStack::kSecondReader) >= 0);
  for (const auto& e : log.events()) CHECK(e.initial);
  const std::size_t mark = log.size();

  stack.insert_card();
  const long inserted = log.wait_for(Kind::kCardInserted, PcscStack::kReader, mark);
  INFO(log.describe());
  REQUIRE(inserted >= 0);
  const auto event = log.events()[inserted];
  CHECK(event.atr_hex == PcscStack::kVirtualCardAtr);
  CHECK_FALSE(event.initial);

  stack.remove_card();
  const long removed = log.wait_for(Kind::kCardRemoved, PcscStack::kReader, inserted + 1);
  REQUIRE(removed >= 0);

  stack.insert_card();
  const long again = log.wait_for(Kind::kCardInserted, PcscStack::kReader, removed + 1);
  REQUIRE(again >= 0);
  CHECK(log.events()[again].atr_hex == PcscStack::kVirtualCardAtr);

  watcher->stop();
  // Exactly these changes, in order: nothing spurious for the other reader, no doubles.
  std::vector<std::string> seen;
  for (const auto& e : log.events()) {
    seen.push_back(std::string(token::to_string(e.kind)) + " " + e.reader);
  }
  CHECK(seen == std::vector<std::string>{
                    "reader-added Virtual PCD 00 00", "reader-added Virtual PCD 00 01",
                    "card-inserted Virtual PCD 00 00", "card-removed Virtual PCD 00 00",
                    "card-inserted Virtual PCD 00 00"});
}

TEST_CASE("a card present when watching starts is reported as initial") {
  PcscStack stack;
  stack.insert_card();
  EventLog log;
  auto watcher = watch(log);
  const long inserted = log.wait_for(Kind::kCardInserted, PcscStack::kReader);
  INFO(log.describe());
  REQUIRE(inserted >= 0);
  CHECK(log.events()[inserted].initial);
  CHECK(log.events()[inserted].atr_hex == PcscStack::kVirtualCardAtr);
}

TEST_CASE("the watcher survives a pcscd restart and sees the card again") {
  PcscStack stack;
  stack.insert_card();
  EventLog log;
  auto watcher = watch(log);
  REQUIRE(log.wait_for(Kind::kCardInserted, PcscStack::kReader) >= 0);
  const std::size_t before_stop = log.size();

  stack.stop_pcscd();
  const long lost = log.wait_for(Kind::kServiceLost, "", before_stop);
  INFO(log.describe());
  REQUIRE(lost >= 0);
  // The state stream stays consistent: the card and the readers went with pcscd.
  CHECK(log.wait_for(Kind::kCardRemoved, PcscStack::kReader, before_stop) >= 0);
  CHECK(log.wait_for(Kind::kCardRemoved, PcscStack::kReader, before_stop) < lost);
  CHECK(log.wait_for(Kind::kReaderRemoved, PcscStack::kReader, before_stop) < lost);

  stack.start_pcscd();
  const long restored = log.wait_for(Kind::kServiceRestored, "", lost + 1);
  REQUIRE(restored >= 0);
  REQUIRE(log.wait_for(Kind::kReaderAdded, PcscStack::kReader, restored + 1) >= 0);

  stack.insert_card();
  const long again = log.wait_for(Kind::kCardInserted, PcscStack::kReader, restored + 1);
  REQUIRE(again >= 0);
  CHECK(log.events()[again].atr_hex == PcscStack::kVirtualCardAtr);
  CHECK_FALSE(log.events()[again].initial);
}

TEST_CASE("a watcher started without pcscd waits for it, then reports its readers") {
  PcscStack stack;
  stack.stop_pcscd();
  EventLog log;
  auto watcher = watch(log);
  const long lost = log.wait_for(Kind::kServiceLost);
  INFO(log.describe());
  REQUIRE(lost == 0);
  CHECK(log.events()[0].message.rfind("pcscd is not running", 0) == 0);

  stack.start_pcscd();
  const long restored = log.wait_for(Kind::kServiceRestored, "", 1);
  REQUIRE(restored >= 0);
  CHECK(log.wait_for(Kind::kReaderAdded, PcscStack::kReader, restored + 1) >= 0);
  stack.insert_card();
  CHECK(log.wait_for(Kind::kCardInserted, PcscStack::kReader, restored + 1) >= 0);
}

TEST_CASE("the watcher stops while blocked, and when asked from its own callback") {
  PcscStack stack;
  {
    EventLog log;
    auto watcher = watch(log);
    REQUIRE(log.wait_for(Kind::kReaderAdded, PcscStack::kSecondReader) >= 0);
    // Blocked in SCardGetStatusChange now: SCardCancel wakes it and stop() joins.
    watcher->stop();
    const std::size_t after_stop = log.size();
    stack.insert_card();
    CHECK(log.size() == after_stop);
    watcher.reset();
    stack.remove_card();
  }
  {
    std::unique_ptr<token::ReaderWatcher> watcher;
    std::mutex started;  // held until `watcher` is assigned
    std::atomic<int> calls{0};
    std::unique_lock hold(started);
    watcher = token::ReaderWatcher::start(
        [&](const token::ReaderEvent&) {
          std::lock_guard wait_for_assignment(started);
          ++calls;
          watcher->stop();  // only asks; the thread ends after this callback
        },
        quick_options());
    hold.unlock();
    REQUIRE(PcscStack::wait_until([&] { return calls.load() >= 1; }));
    watcher.reset();  // joins the finished thread
    CHECK(calls.load() == 1);
  }
}
