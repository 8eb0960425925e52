// The local software key pathway's key protection on a real token: secrets wrapped under the
// token's AES-256 key-encryption key with RFC 5649, by SoftHSM.
#include <openssl/evp.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "hsm/internal/secret_wrap.h"
#include "hsm/internal/token.h"
#include "hsm/key_provider.h"
#include "pki/software_key.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"

using namespace signet;
using base::ErrorCode;
using test::SoftHsmToken;

namespace {

std::shared_ptr<hsm::Pkcs11KeyProvider> make_provider(SoftHsmToken& softhsm) {
  auto provider =
      hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", SoftHsmToken::pin_source());
  REQUIRE(provider);
  return *provider;
}

base::Bytes pattern(std::size_t size) {
  base::Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return out;
}

// The secret-key objects labelled signet-kek as pkcs11-tool (an independent client) lists them.
std::vector<std::string> kek_listings(SoftHsmToken& softhsm) {
  auto listed = softhsm.pkcs11_tool("--login --pin 1234 --list-objects --type secrkey");
  INFO(listed.output);
  REQUIRE(listed.exit_code == 0);
  std::vector<std::string> keks;
  const std::string& text = listed.output;
  for (std::size_t at = text.find("Secret Key Object"); at != std::string::npos;) {
    const std::size_t next = text.find("Secret Key Object", at + 1);
    std::string block = text.substr(at, next == std::string::npos ? std::string::npos : next - at);
    if (block.find("label:      signet-kek") != std::string::npos) keks.push_back(block);
    at = next;
  }
  return keks;
}

}  // namespace

TEST_CASE("a 1200-byte secret wrapped by the token unwraps to the same bytes") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  const base::Bytes secret = pattern(1200);

  auto wrapped = provider->wrap_secret("", secret);
  REQUIRE(wrapped);
  // RFC 5649 §4.1 over the 4-byte length prefix and the secret: 1204 padded to 1208, plus one
  // 8-byte block.
  CHECK(wrapped->wrapped.size() == 1216);
  CHECK(std::search(wrapped->wrapped.begin(), wrapped->wrapped.end(), secret.begin(),
                    secret.begin() + 16) == wrapped->wrapped.end());
  CHECK(wrapped->kek.token_serial == softhsm.serial());
  CHECK(wrapped->kek.object_label == "signet-kek");
  CHECK(wrapped->kek.id.size() == 16);

  auto unwrapped = provider->unwrap_secret(*wrapped);
  REQUIRE(unwrapped);
  CHECK(base::Bytes(unwrapped->view().begin(), unwrapped->view().end()) == secret);

  // Wrapping the same secret again uses the same KEK and, RFC 5649 being deterministic, gives
  // the same bytes; a secret that is not a multiple of 8 is padded.
  auto again = provider->wrap_secret(softhsm.label(), secret);
  REQUIRE(again);
  CHECK(again->kek == wrapped->kek);
  CHECK(again->wrapped == wrapped->wrapped);
  auto odd = provider->wrap_secret("", pattern(13));
  REQUIRE(odd);
  CHECK(odd->wrapped.size() == 32);
  auto odd_back = provider->unwrap_secret(*odd);
  REQUIRE(odd_back);
  CHECK(base::Bytes(odd_back->view().begin(), odd_back->view().end()) == pattern(13));
}

TEST_CASE("the token's wrap is RFC 5649: OpenSSL unwraps it, and the token unwraps OpenSSL's") {
  // With a KEK whose value we know (a session AES key we import), OpenSSL's
  // EVP_aes_256_wrap_pad (an independent RFC 5649) checks the token's output and input.
  SoftHsmToken softhsm;
  auto info = softhsm.module()->find_token(softhsm.label());
  REQUIRE(info);
  auto token =
      std::make_shared<hsm::internal::Token>(softhsm.module(), *info, SoftHsmToken::pin_source());
  auto mechanism = hsm::internal::wrap_mechanism(*softhsm.module(), *info);
  REQUIRE(mechanism);
  CHECK(*mechanism == CKM_AES_KEY_WRAP_PAD);  // SoftHSM 2.6 has no CKM_AES_KEY_WRAP_KWP

  const base::Bytes kek_value = pattern(32);
  const base::Bytes secret = pattern(37);
  base::Bytes framed = {0, 0, 0, 37};
  framed.insert(framed.end(), secret.begin(), secret.end());

  auto openssl_wrap = [&](base::ByteView in, bool wrap) -> base::Bytes {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> context(EVP_CIPHER_CTX_new(),
                                                                            EVP_CIPHER_CTX_free);
    base::Bytes out(in.size() + 16);
    int length = 0;
    int final_length = 0;
    REQUIRE(EVP_CipherInit_ex(context.get(), EVP_aes_256_wrap_pad(), nullptr, kek_value.data(),
                              nullptr, wrap ? 1 : 0) == 1);
    REQUIRE(EVP_CipherUpdate(context.get(), out.data(), &length, in.data(),
                             static_cast<int>(in.size())) == 1);
    REQUIRE(EVP_CipherFinal_ex(context.get(), out.data() + length, &final_length) == 1);
    out.resize(static_cast<std::size_t>(length + final_length));
    return out;
  };

  auto checked = token->run([&](hsm::internal::Session& session) -> base::Result<void> {
    using hsm::internal::attr;
    const CK_OBJECT_CLASS secret_class = CKO_SECRET_KEY;
    const CK_KEY_TYPE aes = CKK_AES;
    std::vector<CK_ATTRIBUTE> key_template = {
        attr(CKA_CLASS, &secret_class, sizeof(secret_class)),
        attr(CKA_KEY_TYPE, &aes, sizeof(aes)),
        attr(CKA_TOKEN, hsm::internal::kFalse),
        attr(CKA_WRAP, hsm::internal::kTrue),
        attr(CKA_UNWRAP, hsm::internal::kTrue),
        attr(CKA_VALUE, base::ByteView(kek_value)),
    };
    CK_OBJECT_HANDLE kek = CK_INVALID_HANDLE;
    SIGNET_TRY(SIGNET_P11_CALL(session.functions(), C_CreateObject, session.token_label(),
                               hsm::internal::Purpose::kGeneral, session.handle(),
                               key_template.data(), key_template.size(), &kek)
                   .result());

    auto by_token = hsm::internal::wrap_secret(session, *mechanism, kek, secret);
    REQUIRE(by_token);
    // SoftHSM 2.6.1 zero-pads the value to a multiple of 8 before wrapping, so RFC 5649's
    // length indicator includes that padding (hence our length prefix).
    base::Bytes padded_framed = framed;
    padded_framed.resize((framed.size() + 7) / 8 * 8, 0);
    const base::Bytes opened = openssl_wrap(*by_token, false);
    CHECK((opened == framed || opened == padded_framed));

    auto back = hsm::internal::unwrap_secret(session, *mechanism, kek, openssl_wrap(framed, true));
    REQUIRE(back);
    CHECK(base::Bytes(back->view().begin(), back->view().end()) == secret);
    return session.destroy_object(kek);
  });
  CHECK(checked);
}

TEST_CASE("a software key's PKCS#8 survives wrapping and signs again after unwrapping") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto key = pki::SoftwareKey::generate(base::KeyAlgorithm::kRsa2048);
  REQUIRE(key);
  auto pkcs8 = (*key)->to_pkcs8();
  REQUIRE(pkcs8);
  auto wrapped = provider->wrap_secret("", pkcs8->view());
  REQUIRE(wrapped);
  auto unwrapped = provider->unwrap_secret(*wrapped);
  REQUIRE(unwrapped);
  auto restored = pki::SoftwareKey::from_pkcs8(unwrapped->view());
  REQUIRE(restored);
  CHECK((*restored)->public_key_der() == (*key)->public_key_der());
}

TEST_CASE("the key-encryption key is an AES-256 key that is sensitive and never extractable") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  REQUIRE(provider->wrap_secret("", pattern(40)));

  const auto keks = kek_listings(softhsm);
  REQUIRE(keks.size() == 1);
  const std::string& kek = keks.front();
  INFO(kek);
  CHECK(kek.find("AES length 32") != std::string::npos);
  CHECK(kek.find("Usage:      wrap, unwrap") != std::string::npos);
  CHECK(kek.find("encrypt") == std::string::npos);
  CHECK(kek.find("decrypt") == std::string::npos);
  CHECK(kek.find("sensitive") != std::string::npos);
  CHECK(kek.find("always sensitive") != std::string::npos);
  CHECK(kek.find("never extractable") != std::string::npos);
  CHECK(kek.find("local") != std::string::npos);

  // Not a key pair: the operator's list of (orphan-able) keys does not show it.
  auto keys = provider->list_keys("");
  REQUIRE(keys);
  CHECK(keys->empty());

  // Its value cannot be read, even when logged in.
  auto read = softhsm.pkcs11_tool(
      "--login --pin 1234 --read-object --type secrkey --label "
      "signet-kek -o " +
      (softhsm.dir() / "kek.bin").string());
  CHECK(read.exit_code != 0);
}

TEST_CASE("a second provider finds the KEK the first one made and unwraps its secrets") {
  SoftHsmToken softhsm;
  auto first = make_provider(softhsm);
  auto wrapped = first->wrap_secret("", pattern(64));
  REQUIRE(wrapped);

  auto second = make_provider(softhsm);
  auto unwrapped = second->unwrap_secret(*wrapped);
  REQUIRE(unwrapped);
  CHECK(base::Bytes(unwrapped->view().begin(), unwrapped->view().end()) == pattern(64));
  auto more = second->wrap_secret("", pattern(32));
  REQUIRE(more);
  CHECK(more->kek == wrapped->kek);
  CHECK(kek_listings(softhsm).size() == 1);
}

TEST_CASE("threads wrapping at once on a fresh token make one KEK") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  constexpr int kThreads = 4;
  std::vector<base::Result<base::WrappedSecret>> results(
      kThreads, base::Error(ErrorCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = provider->wrap_secret("", pattern(100 + i)); });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kThreads; ++i) {
    INFO(i);
    REQUIRE(results[i]);
    CHECK(results[i]->kek == results[0]->kek);
  }
  CHECK(kek_listings(softhsm).size() == 1);
}

TEST_CASE("when two KEKs exist, wrapping uses the one with the lowest CKA_ID") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto ours = provider->wrap_secret("", pattern(48));
  REQUIRE(ours);
  // As if another process had raced us and made its own KEK, with a CKA_ID below ours.
  auto made = softhsm.pkcs11_tool(
      "--login --pin 1234 --keygen --key-type AES:32 --usage-wrap --label signet-kek --id 00");
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  REQUIRE(kek_listings(softhsm).size() == 2);

  auto other = make_provider(softhsm);
  auto later = other->wrap_secret("", pattern(48));
  REQUIRE(later);
  CHECK(later->kek.id == base::Bytes{0x00});
  CHECK(later->wrapped != ours->wrapped);
  // Both KEKs stay usable: each wrapped secret names the KEK that wrapped it.
  auto back = other->unwrap_secret(*ours);
  REQUIRE(back);
  CHECK(base::Bytes(back->view().begin(), back->view().end()) == pattern(48));
  auto back_later = provider->unwrap_secret(*later);
  REQUIRE(back_later);
  CHECK(base::Bytes(back_later->view().begin(), back_later->view().end()) == pattern(48));
}

TEST_CASE("an altered wrapped secret fails the RFC 5649 integrity check") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto wrapped = provider->wrap_secret("", pattern(256));
  REQUIRE(wrapped);
  for (std::size_t position : {std::size_t{0}, std::size_t{100}, wrapped->wrapped.size() - 1}) {
    INFO(position);
    base::WrappedSecret altered = *wrapped;
    altered.wrapped[position] ^= 0x01;
    auto unwrapped = provider->unwrap_secret(altered);
    REQUIRE_FALSE(unwrapped);
    CHECK(unwrapped.error().code() == ErrorCode::kVerificationFailed);
    CHECK(unwrapped.error().message().find("integrity") != std::string::npos);
  }
  base::WrappedSecret truncated = *wrapped;
  truncated.wrapped.resize(truncated.wrapped.size() - 8);
  auto short_one = provider->unwrap_secret(truncated);
  REQUIRE_FALSE(short_one);
  CHECK(short_one.error().code() == ErrorCode::kVerificationFailed);
  // The provider still works afterwards.
  CHECK(provider->unwrap_secret(*wrapped));
}

TEST_CASE("unwrapping after the KEK was deleted is kNotFound") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto wrapped = provider->wrap_secret("", pattern(32));
  REQUIRE(wrapped);
  auto deleted =
      softhsm.pkcs11_tool("--login --pin 1234 --delete-object --type secrkey --label signet-kek");
  INFO(deleted.output);
  REQUIRE(deleted.exit_code == 0);
  auto unwrapped = provider->unwrap_secret(*wrapped);
  REQUIRE_FALSE(unwrapped);
  CHECK(unwrapped.error().code() == ErrorCode::kNotFound);
  CHECK(unwrapped.error().message().find("key-encryption key") != std::string::npos);

  base::WrappedSecret elsewhere = *wrapped;
  elsewhere.kek.token_serial = "no-such-serial";
  elsewhere.kek.token_label.clear();
  auto missing_token = provider->unwrap_secret(elsewhere);
  REQUIRE_FALSE(missing_token);
  CHECK(missing_token.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("check_room passes on a SoftHSM token and names an unknown token") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  CHECK(provider->check_room(""));
  CHECK(provider->check_room(softhsm.label()));
  CHECK(provider->check_room(softhsm.serial()));
  auto unknown = provider->check_room("nonexistent");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code() == ErrorCode::kNotFound);
}
