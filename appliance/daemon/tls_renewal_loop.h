// TlsRenewalLoop: renews signetd's TLS certificate while it serves. Every `check_interval` it
// looks at the certificate the HTTPS listener presents (ServedTlsIdentity, the
// TlsCertificateSwitch); when less than `renew_before` of its validity is left, the appliance CA
// rekeys it (a new EC P-256 key generated on the token, the same names, `certificate_lifetime`
// of validity) and the switch hands it to new handshakes, while established connections keep
// the old one. The old key is destroyed on the token once `key_grace` has passed (handshakes
// that chose the old certificate before the swap may still sign with it until their handshake
// deadline), or when the loop stops (after the server has). Each renewal writes the audit event
// "tls.certificate_renewed", each destroyed key "tls.key_destroyed". A failure is logged, raises
// the alert "tls.renewal_failed" (audited) and leaves the old certificate serving; the next round
// retries.
//
// A rekey that committed but could not be put in service (finding its key or the swap failed)
// is not lost: its key stays on the token, and every round first looks for the newest
// certificate of the served one's line in the store (the successors renewals recorded). When it
// is newer than the served one, the round serves it (what a restart would pick up); when its key
// is gone from the token, the round rekeys it instead. So a failed swap never leaves renewal
// refusing the served certificate as "already replaced".
//
// Each round also renews operators' client certificates that are due
// (operator_certificates.h, `operator_renew_before`).
//
// Thread-safety: owns one thread; the destructor stops and joins it. Uses the ApiServices'
// shared (thread-safe) services.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "appliance/api/api.h"
#include "appliance/daemon/tls_certificate_switch.h"

namespace signet::appliance {

struct TlsRenewalPolicy {
  std::chrono::seconds certificate_lifetime{std::chrono::days(397)};
  std::chrono::seconds renew_before{std::chrono::days(30)};
  std::chrono::seconds check_interval{3600};
  std::chrono::seconds operator_renew_before{std::chrono::days(30)};  // operators' certificates
  // How long a replaced key stays on the token: handshakes that chose the old certificate just
  // before the swap may still sign with it until their deadline (tls_handshake_timeout, 10 s).
  std::chrono::seconds key_grace{15};
};

class TlsRenewalLoop {
 public:
  using Log = std::function<void(const std::string&)>;
  TlsRenewalLoop(ApiServices& api, ServedTlsIdentity& tls, TlsRenewalPolicy policy, Log log);
  ~TlsRenewalLoop();
  TlsRenewalLoop(const TlsRenewalLoop&) = delete;
  TlsRenewalLoop& operator=(const TlsRenewalLoop&) = delete;

 private:
  struct RetiredKey {
    base::KeyRef key;
    std::chrono::steady_clock::time_point destroy_after;
  };
  void run();
  void round();
  base::Result<void> renew_if_due();
  base::Result<void> rekey_and_serve(const TlsIdentity& served,
                                     const ca::CertificateRecord& newest);
  base::Result<void> serve(const TlsIdentity& served, const ca::CertificateRecord& next,
                           bool adopted);
  void failed(const base::Error& error);
  void destroy_retired(bool all);
  void audit(const std::string& action, const std::string& object, const std::string& detail);

  ApiServices& api_;
  ServedTlsIdentity& tls_;
  const TlsRenewalPolicy policy_;
  const Log log_;
  std::vector<RetiredKey> retired_;  // only the loop's thread (and the destructor after join)
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: starts after everything above
};

}  // namespace signet::appliance
