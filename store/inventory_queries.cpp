// LmdbStore::list_certificates and list_revocations: which index answers which query (see
// lmdb_store.h), keyset cursors, and the scan budget.
#include <algorithm>
#include <limits>
#include <set>

#include "store/internal/store_impl.h"

namespace signet::store {

namespace {

using base::Bytes;
using base::ByteView;
using base::Error;
using base::ErrorCode;

constexpr std::size_t kMaxPageSize = 1000;
// The most candidates a filter's own index may yield to be collected and sorted in memory.
constexpr std::size_t kCollectBound = 10'000;
constexpr std::uint8_t kCursorMagic = 0xc2;

bool is_time_sort(ca::CertificateSort sort) {
  return sort == ca::CertificateSort::kNotAfter || sort == ca::CertificateSort::kNotBefore;
}

// A record's key under `sort`: exactly the bytes of the sort's own index entry (key, plus the
// value for the dupsort serial index), so that index order is sort order.
Bytes sort_key(const ca::CertificateRecord& r, ca::CertificateSort sort) {
  switch (sort) {
    case ca::CertificateSort::kNotAfter: {
      const auto key = schema::not_after_key(r.not_after, r.id);
      return Bytes(key.begin(), key.end());
    }
    case ca::CertificateSort::kNotBefore: {
      const auto key = schema::not_after_key(r.not_before, r.id);
      return Bytes(key.begin(), key.end());
    }
    case ca::CertificateSort::kCommonName:
      return schema::cn_sort_key(r.common_name, r.id);
    case ca::CertificateSort::kSerial: {
      const auto serial = schema::serial_key(r.serial);
      const auto id = schema::id_key(r.id);
      Bytes key(serial.begin(), serial.end());
      key.insert(key.end(), id.begin(), id.end());
      return key;
    }
  }
  return {};
}

std::string encode_cursor(const ca::CertificateQuery& query, ByteView key) {
  Bytes raw{kCursorMagic, static_cast<std::uint8_t>(query.sort),
            static_cast<std::uint8_t>(query.descending ? 1 : 0)};
  raw.insert(raw.end(), key.begin(), key.end());
  return base::to_hex(raw);
}

// The sort key a cursor resumes after (exclusive); refuses a cursor of another sort.
base::Result<std::optional<Bytes>> decode_cursor(const ca::CertificateQuery& query) {
  if (query.cursor.empty()) return std::optional<Bytes>();
  auto refused = [&](const std::string& why) {
    return Error(ErrorCode::kInvalidArgument,
                 "the cursor '" + query.cursor.substr(0, 64) + "' " + why);
  };
  auto raw = base::from_hex(query.cursor);
  if (!raw || raw->size() < 3 || (*raw)[0] != kCursorMagic) {
    return refused("is not one this store gave");
  }
  if ((*raw)[1] != static_cast<std::uint8_t>(query.sort) ||
      (*raw)[2] != (query.descending ? 1 : 0)) {
    return refused("belongs to another sort order than " + std::string(to_string(query.sort)) +
                   (query.descending ? " descending" : " ascending"));
  }
  Bytes key(raw->begin() + 3, raw->end());
  const bool size_ok = is_time_sort(query.sort)                     ? key.size() == 16
                       : query.sort == ca::CertificateSort::kSerial ? key.size() == 28
                                                                    : key.size() >= 9;
  if (!size_ok) return refused("is not one this store gave");
  return std::optional<Bytes>(std::move(key));
}

bool matches(const ca::CertificateRecord& r, const ca::CertificateQuery& q) {
  return (!q.ca_name || r.ca_name == *q.ca_name) && (!q.profile || r.profile == *q.profile) &&
         (!q.status || ca::status_at(r, q.now) == *q.status) &&
         (!q.source || r.source == *q.source) &&
         (!q.not_after_before || r.not_after < *q.not_after_before) &&
         schema::matches_search(r, q.search);
}

bool starts_with(ByteView key, ByteView prefix) {
  return key.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), key.begin());
}

// "*.Example.com" -> "com.example." (the cert_by_dns prefix of every name under it).
std::string dns_suffix_prefix(std::string_view search) {
  std::string_view rest = search.substr(2);
  std::string out;
  while (!rest.empty()) {
    const auto dot = rest.rfind('.');
    const auto label = dot == std::string_view::npos ? rest : rest.substr(dot + 1);
    for (char c : label) out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
    out.push_back('.');
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(0, dot);
  }
  return out;
}

class QueryRunner {
 public:
  QueryRunner(LmdbStore::Impl& impl, lmdb::Transaction& txn, const ca::CertificateQuery& query,
              std::optional<Bytes> resume)
      : impl_(impl), txn_(txn), q_(query), resume_(std::move(resume)) {}

  base::Result<ca::CertificatePage> run() {
    SIGNET_ASSIGN_OR_RETURN(auto candidates, collect_candidates());
    if (candidates) return sorted_page(*candidates);
    return walk_page();
  }

 private:
  // ---- collected: a filter's own index yields few enough candidates ----

  // Ids under `prefix` in `table`: each entry's value (dupsort) or its key's last 8 bytes.
  // nullopt when there are more than kCollectBound.
  base::Result<std::optional<std::set<std::uint64_t>>> ids_under(const lmdb::Table& table,
                                                                 ByteView prefix, bool id_in_key) {
    std::set<std::uint64_t> ids;
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, table));
    std::optional<lmdb::Entry> entry;
    if (prefix.empty()) {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.first());
    } else {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.seek(prefix));
    }
    while (entry && starts_with(entry->key, prefix)) {
      const ByteView id = id_in_key ? entry->key.subspan(entry->key.size() - 8) : entry->value;
      ids.insert(schema::id_from(id));
      if (ids.size() > kCollectBound) return std::optional<std::set<std::uint64_t>>();
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
    }
    return std::optional(std::move(ids));
  }

  // Tries each filter that has its own index, most selective first; the first that yields at
  // most kCollectBound candidates wins.
  base::Result<std::optional<std::set<std::uint64_t>>> collect_candidates() {
    using Ids = std::optional<std::set<std::uint64_t>>;
    const auto& t = impl_.tables;
    if (!q_.search.empty()) {
      Ids ids;
      if (q_.search.starts_with("*.")) {
        const auto prefix = dns_suffix_prefix(q_.search);
        SIGNET_ASSIGN_OR_RETURN(ids, ids_under(t.cert_by_dns, base::as_bytes(prefix), false));
      } else {
        std::string prefix = schema::name_key(q_.search);
        if (prefix.size() > schema::kMaxLiteralNameKey) prefix = q_.search;  // matches nothing
        SIGNET_ASSIGN_OR_RETURN(ids, ids_under(t.cert_by_name, base::as_bytes(prefix), false));
      }
      if (ids) return ids;
    }
    if (q_.status == ca::CertificateStatus::kRevoked) {
      SIGNET_ASSIGN_OR_RETURN(auto ids, ids_under(t.revocations, {}, false));
      if (ids) return ids;
    }
    if (q_.sort == ca::CertificateSort::kNotAfter) return Ids();  // walked in order instead
    if (q_.profile) {
      const auto prefix = schema::prefixed_key(*q_.profile, {});
      SIGNET_ASSIGN_OR_RETURN(auto ids, ids_under(t.cert_by_profile, prefix, true));
      if (ids) return ids;
    }
    const std::optional<std::string> ca =
        q_.ca_name
            ? q_.ca_name
            : (q_.source == ca::CertificateSource::kDiscovered ? std::optional<std::string>("")
                                                               : std::nullopt);
    if (ca) {
      SIGNET_ASSIGN_OR_RETURN(auto ids,
                              ids_under(t.cert_by_ca, schema::prefixed_key(*ca, {}), true));
      if (ids) return ids;
    }
    return Ids();
  }

  base::Result<ca::CertificatePage> sorted_page(const std::set<std::uint64_t>& ids) {
    std::vector<std::pair<Bytes, ca::CertificateRecord>> found;
    for (const std::uint64_t id : ids) {
      SIGNET_ASSIGN_OR_RETURN(auto record, impl_.load(txn_, id));
      if (!record) return dangling(impl_.tables.certs, id);
      if (!matches(*record, q_)) continue;
      Bytes key = sort_key(*record, q_.sort);
      if (resume_ && (q_.descending ? !(key < *resume_) : !(*resume_ < key))) continue;
      found.emplace_back(std::move(key), std::move(*record));
    }
    std::sort(found.begin(), found.end(), [&](const auto& a, const auto& b) {
      return q_.descending ? b.first < a.first : a.first < b.first;
    });
    ca::CertificatePage page;
    for (std::size_t i = 0; i < found.size() && i < q_.limit; ++i) {
      page.items.push_back(std::move(found[i].second));
    }
    if (found.size() > q_.limit) page.next_cursor = encode_cursor(q_, found[q_.limit - 1].first);
    return page;
  }

  // ---- walked: the sort's index, in order ----

  struct Position {
    Bytes key;  // the sort key
    std::uint64_t id = 0;
  };

  void plan_walk() {
    const auto& t = impl_.tables;
    switch (q_.sort) {
      case ca::CertificateSort::kNotAfter:
        table_ = &t.cert_by_not_after;
        if (q_.profile) {
          table_ = &t.cert_by_profile;
          prefix_ = schema::prefixed_key(*q_.profile, {});
        } else if (q_.ca_name || q_.source == ca::CertificateSource::kDiscovered) {
          table_ = &t.cert_by_ca;
          prefix_ = schema::prefixed_key(q_.ca_name.value_or(""), {});
        }
        plan_not_after_range();
        break;
      case ca::CertificateSort::kNotBefore:
        table_ = &t.cert_by_not_before;
        break;
      case ca::CertificateSort::kCommonName:
        table_ = &t.cert_by_cn;
        break;
      case ca::CertificateSort::kSerial:
        table_ = &t.cert_by_serial;
        dupsort_ = true;
        break;
    }
  }

  // The notAfter seconds that can match: [lo, hi] from status and not_after_before.
  void plan_not_after_range() {
    std::optional<std::int64_t> lo, hi;
    if (q_.not_after_before) hi = schema::floor_seconds(*q_.not_after_before);
    if (q_.status == ca::CertificateStatus::kExpired) {
      const auto now = schema::floor_seconds(q_.now);
      hi = hi ? std::min(*hi, now) : now;
    }
    if (q_.status == ca::CertificateStatus::kActive) lo = schema::floor_seconds(q_.now);
    auto bound = [](std::int64_t seconds) {
      const auto key = schema::not_after_key(base::from_unix_seconds(seconds), 0);
      return Bytes(key.begin(), key.end());
    };
    if (lo) lo_ = bound(*lo);
    if (hi && *hi < std::numeric_limits<std::int64_t>::max()) hi_ = bound(*hi + 1);
  }

  // The sort key and id of a cursor's entry, or nullopt once it left the prefix.
  std::optional<Position> position(const std::optional<lmdb::Entry>& entry) const {
    if (!entry || !starts_with(entry->key, prefix_)) return std::nullopt;
    Position p;
    if (dupsort_) {
      p.key.assign(entry->key.begin(), entry->key.end());
      p.key.insert(p.key.end(), entry->value.begin(), entry->value.end());
      p.id = schema::id_from(entry->value);
    } else {
      p.key.assign(entry->key.begin() + static_cast<std::ptrdiff_t>(prefix_.size()),
                   entry->key.end());
      p.id = p.key.size() >= 8 ? schema::id_from(ByteView(p.key).subspan(p.key.size() - 8)) : 0;
    }
    return p;
  }

  Bytes seek_key(const Bytes& sort_key) const {
    Bytes key = prefix_;
    key.insert(key.end(), sort_key.begin(),
               dupsort_ ? sort_key.begin() + static_cast<std::ptrdiff_t>(sort_key.size() - 8)
                        : sort_key.end());
    return key;
  }

  base::Result<std::optional<Position>> first_ascending(lmdb::Cursor& cursor) {
    // Resume after the cursor's key, or start at the range's low end, whichever is later.
    const bool from_resume = resume_ && (!lo_ || !(*resume_ < *lo_));
    std::optional<lmdb::Entry> entry;
    if (from_resume) {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.seek(seek_key(*resume_)));
    } else if (lo_) {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.seek(seek_key(*lo_)));
    } else if (!prefix_.empty()) {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.seek(prefix_));
    } else {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.first());
    }
    auto p = position(entry);
    while (from_resume && p && !(*resume_ < p->key)) {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
      p = position(entry);
    }
    return p;
  }

  base::Result<std::optional<Position>> first_descending(lmdb::Cursor& cursor) {
    // Everything strictly below `upper`: the cursor's key or the range's high end.
    std::optional<Bytes> upper = resume_;
    if (hi_ && (!upper || *hi_ < *upper)) upper = hi_;
    std::optional<lmdb::Entry> entry;
    if (upper) {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.seek(seek_key(*upper)));
      // Step over the dupsort values of the seek key that are still below `upper`.
      for (auto p = position(entry); p && p->key < *upper; p = position(entry)) {
        SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
      }
    } else if (!prefix_.empty()) {
      Bytes end = prefix_;
      end.back() = 0x01;  // prefixes end in 0x00: this is the first key after them all
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.seek(end));
    }
    if (entry) {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
    } else {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.last());
    }
    auto p = position(entry);
    while (upper && p && !(p->key < *upper)) {
      SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
      p = position(entry);
    }
    return p;
  }

  bool in_range(const std::optional<Position>& p) const {
    return p && (!lo_ || !(p->key < *lo_)) && (!hi_ || p->key < *hi_);
  }

  base::Result<ca::CertificatePage> walk_page() {
    plan_walk();
    // Bounds the work of one call when filters reject most of what is read.
    const std::size_t budget = std::max<std::size_t>(10'000, q_.limit * 10);
    SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn_, *table_));
    std::optional<Position> p;
    if (q_.descending) {
      SIGNET_ASSIGN_OR_RETURN(p, first_descending(cursor));
    } else {
      SIGNET_ASSIGN_OR_RETURN(p, first_ascending(cursor));
    }
    ca::CertificatePage page;
    Bytes last_key;
    std::size_t scanned = 0;
    while (in_range(p)) {
      SIGNET_ASSIGN_OR_RETURN(auto record, impl_.load(txn_, p->id));
      if (!record) return dangling(*table_, p->id);
      last_key = std::move(p->key);
      if (matches(*record, q_)) page.items.push_back(std::move(*record));
      std::optional<lmdb::Entry> entry;
      if (q_.descending) {
        SIGNET_ASSIGN_OR_RETURN(entry, cursor.prev());
      } else {
        SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
      }
      p = position(entry);
      if (page.items.size() == q_.limit || ++scanned >= budget) break;
    }
    if (in_range(p) && !last_key.empty()) page.next_cursor = encode_cursor(q_, last_key);
    return page;
  }

  LmdbStore::Impl& impl_;
  lmdb::Transaction& txn_;
  const ca::CertificateQuery& q_;
  std::optional<Bytes> resume_;
  // The walk's plan.
  const lmdb::Table* table_ = nullptr;
  Bytes prefix_;  // keys under it (empty: the whole table)
  bool dupsort_ = false;
  std::optional<Bytes> lo_, hi_;  // sort keys: lo inclusive, hi exclusive
};

}  // namespace

base::Result<ca::CertificatePage> LmdbStore::list_certificates(const ca::CertificateQuery& query) {
  if (query.limit < 1 || query.limit > kMaxPageSize) {
    return Error(ErrorCode::kInvalidArgument, "the page size must be between 1 and " +
                                                  std::to_string(kMaxPageSize) + ", not " +
                                                  std::to_string(query.limit));
  }
  SIGNET_ASSIGN_OR_RETURN(auto resume, decode_cursor(query));
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  QueryRunner runner(*impl_, txn, query, std::move(resume));
  return runner.run();
}

base::Result<std::vector<ca::CertificateRecord>> LmdbStore::list_revocations(
    std::string_view ca_name, std::uint64_t after, std::size_t limit) {
  std::vector<ca::CertificateRecord> out;
  if (limit == 0 || after == std::numeric_limits<std::uint64_t>::max()) return out;
  const auto& index = impl_->tables.revocations;
  SIGNET_ASSIGN_OR_RETURN(auto txn, lmdb::Transaction::begin_read(*impl_->env));
  SIGNET_ASSIGN_OR_RETURN(auto cursor, lmdb::Cursor::open(txn, index));
  SIGNET_ASSIGN_OR_RETURN(auto entry, cursor.seek(schema::id_key(after + 1)));
  while (entry && out.size() < limit) {
    SIGNET_ASSIGN_OR_RETURN(auto record, impl_->load_indexed(txn, index, entry->value));
    if (record.ca_name == ca_name) out.push_back(std::move(record));
    SIGNET_ASSIGN_OR_RETURN(entry, cursor.next());
  }
  return out;
}

}  // namespace signet::store
