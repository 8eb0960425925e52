#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "base/bytes.h"
#include "hsm/key_provider.h"
#include "tests/integration/hsm/verify.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/test_support.h"

using namespace signet;
using base::ErrorCode;
using base::KeyAlgorithm;
using test::SoftHsmToken;

namespace {

std::shared_ptr<hsm::Pkcs11KeyProvider> make_provider(
    SoftHsmToken& softhsm, hsm::Pkcs11KeyProvider::Options options = {}) {
  auto provider = hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", SoftHsmToken::pin_source(),
                                                 std::move(options));
  REQUIRE(provider);
  return *provider;
}

std::string percent_id(const base::Bytes& id) {
  std::string out;
  for (auto byte : id) out += "%" + base::to_hex_upper(base::ByteView(&byte, 1));
  return out;
}

// Hands out a scripted sequence of byte patterns (one byte value per fill).
class ScriptedRng final : public base::Rng {
 public:
  explicit ScriptedRng(std::vector<std::uint8_t> script) : script_(std::move(script)) {}
  base::Result<void> fill(std::span<std::uint8_t> out) override {
    std::fill(out.begin(), out.end(), script_.at(next_++));
    return base::ok();
  }

 private:
  std::vector<std::uint8_t> script_;
  std::size_t next_ = 0;
};

}  // namespace

TEST_CASE("every algorithm is generated on the token, signs, and OpenSSL verifies it") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  const base::Bytes message(1000, 0x5a);
  for (KeyAlgorithm algorithm :
       {KeyAlgorithm::kEcP256, KeyAlgorithm::kEcP384, KeyAlgorithm::kRsa2048,
        KeyAlgorithm::kRsa3072, KeyAlgorithm::kRsa4096, KeyAlgorithm::kEd25519}) {
    const std::string name(base::to_string(algorithm));
    INFO(name);
    auto signer = provider->generate_key({"", algorithm, "key-" + name});
    REQUIRE(signer);
    CHECK((*signer)->algorithm() == algorithm);
    CHECK((*signer)->key_ref().id.size() == 16);
    CHECK((*signer)->key_ref().object_label == "key-" + name);
    CHECK((*signer)->key_ref().token_serial == softhsm.serial());
    auto signature = (*signer)->sign(message);
    REQUIRE(signature);
    CHECK(test::openssl_verifies(**signer, message, *signature));
    base::Bytes tampered = message;
    tampered[0] ^= 1;
    CHECK_FALSE(test::openssl_verifies(**signer, tampered, *signature));
    if (algorithm == KeyAlgorithm::kEd25519) CHECK(signature->size() == 64);
    if (base::is_rsa(algorithm))
      CHECK(signature->size() * 8 == std::size_t(base::rsa_bits(algorithm)));

    // The private half was born on the token and can never leave it.
    auto attributes = provider->read_private_key_attributes((*signer)->key_ref());
    REQUIRE(attributes);
    CHECK(attributes->sensitive);
    CHECK(attributes->always_sensitive);
    CHECK(attributes->never_extractable);
    CHECK(attributes->local);
    CHECK_FALSE(attributes->extractable);
    CHECK(attributes->token_object);
    CHECK(attributes->is_private);

    // find_key gives back the same public key and a working signer.
    auto found = provider->find_key((*signer)->key_ref());
    REQUIRE(found);
    CHECK((*found)->public_key_der() == (*signer)->public_key_der());
    auto again = (*found)->sign(message);
    REQUIRE(again);
    CHECK(test::openssl_verifies(**found, message, *again));
  }

  auto keys = provider->list_keys("");
  REQUIRE(keys);
  CHECK(keys->size() == 6);
  for (const auto& key : *keys) {
    CHECK(key.algorithm.has_value());
    CHECK(key.has_public_key);
  }

  // pkcs11-tool, reading the same store on its own, lists the keys we made.
  auto listed = softhsm.pkcs11_tool("--login --pin 1234 --list-objects");
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.output.find("key-ec-p384") != std::string::npos);
  CHECK(listed.output.find("key-rsa-4096") != std::string::npos);
  CHECK(listed.output.find("key-ed25519") != std::string::npos);
}

TEST_CASE("the SPKI we build equals the public key pkcs11-tool reads from the token") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  for (KeyAlgorithm algorithm : {KeyAlgorithm::kEcP256, KeyAlgorithm::kRsa2048}) {
    auto signer = provider->generate_key({"", algorithm, "spki"});
    REQUIRE(signer);
    const auto out = softhsm.dir() / "pub.der";
    auto read = softhsm.pkcs11_tool("--read-object --type pubkey --id " +
                                    base::to_hex((*signer)->key_ref().id) + " -o " + out.string());
    REQUIRE(read.exit_code == 0);
    CHECK(test::read_file(out) == (*signer)->public_key_der());
    REQUIRE(provider->destroy_key((*signer)->key_ref()));
  }
}

TEST_CASE("two threads sign concurrently with one signer") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  for (KeyAlgorithm algorithm : {KeyAlgorithm::kEcP256, KeyAlgorithm::kRsa2048}) {
    auto signer = provider->generate_key({"", algorithm, "shared"});
    REQUIRE(signer);
    std::atomic<int> good{0};
    std::atomic<int> bad{0};
    auto work = [&](std::uint8_t seed) {
      for (int i = 0; i < 50; ++i) {
        base::Bytes message(64, static_cast<std::uint8_t>(seed + i));
        auto signature = (*signer)->sign(message);
        if (signature && test::openssl_verifies(**signer, message, *signature)) {
          ++good;
        } else {
          ++bad;
        }
      }
    };
    std::thread first(work, 1);
    std::thread second(work, 101);
    first.join();
    second.join();
    CHECK(good == 100);
    CHECK(bad == 0);
  }
}

TEST_CASE("keys are found by URI: by object label, by id, with token and serial") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "root-ca"});
  REQUIRE(signer);
  const auto& ref = (*signer)->key_ref();

  for (const std::string& uri :
       {std::string("pkcs11:object=root-ca"),
        std::string("pkcs11:token=signet;object=root-ca;type=private"),
        "pkcs11:id=" + percent_id(ref.id),
        "pkcs11:serial=" + ref.token_serial + ";id=" + percent_id(ref.id), ref.to_uri(),
        "pkcs11:object=root-ca?module-path=" + softhsm.module_path()}) {
    INFO(uri);
    auto found = provider->find_key_by_uri(uri);
    REQUIRE(found);
    CHECK((*found)->key_ref() == ref);
    CHECK((*found)->public_key_der() == (*signer)->public_key_der());
  }
}

TEST_CASE("a URI that matches nothing, or too much, or carries a PIN, is refused") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  REQUIRE(provider->generate_key({"", KeyAlgorithm::kEcP256, "twin"}));
  REQUIRE(provider->generate_key({"", KeyAlgorithm::kEcP256, "twin"}));

  auto ambiguous = provider->find_key_by_uri("pkcs11:object=twin");
  REQUIRE_FALSE(ambiguous);
  CHECK(ambiguous.error().code() == ErrorCode::kInvalidArgument);
  CHECK(ambiguous.error().message().find("ambiguous") != std::string::npos);

  auto missing = provider->find_key_by_uri("pkcs11:object=nobody;type=private");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == ErrorCode::kNotFound);
  CHECK(missing.error().message().find("pkcs11:object=nobody;type=private") != std::string::npos);

  auto other_token = provider->find_key_by_uri("pkcs11:token=elsewhere;object=twin");
  REQUIRE_FALSE(other_token);
  CHECK(other_token.error().code() == ErrorCode::kNotFound);

  auto with_pin = provider->find_key_by_uri("pkcs11:object=twin?pin-value=1234");
  REQUIRE_FALSE(with_pin);
  CHECK(with_pin.error().code() == ErrorCode::kInvalidArgument);
  CHECK(with_pin.error().message().find("PKCS#11 URIs may not carry a PIN") != std::string::npos);
  CHECK(with_pin.error().message().find("1234") == std::string::npos);
}

TEST_CASE("unknown keys and unknown tokens are kNotFound naming what was asked for") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  base::KeyRef unknown_key{softhsm.serial(), base::Bytes{0xde, 0xad}, "signet", ""};
  auto key = provider->find_key(unknown_key);
  REQUIRE_FALSE(key);
  CHECK(key.error().code() == ErrorCode::kNotFound);
  CHECK(key.error().message().find("dead") != std::string::npos);

  base::KeyRef unknown_token{"0000000000000000", base::Bytes{0x01}, "", ""};
  auto token = provider->find_key(unknown_token);
  REQUIRE_FALSE(token);
  CHECK(token.error().code() == ErrorCode::kNotFound);
  CHECK(token.error().message().find("0000000000000000") != std::string::npos);

  auto generated = provider->generate_key({"no-such-token", KeyAlgorithm::kEcP256, "k"});
  REQUIRE_FALSE(generated);
  CHECK(generated.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("a new key never reuses a CKA_ID that an object on the token has") {
  SoftHsmToken softhsm;
  hsm::Pkcs11KeyProvider::Options options;
  // The second key's first candidate id collides with the first key's.
  options.rng = std::make_shared<ScriptedRng>(std::vector<std::uint8_t>{0xaa, 0xaa, 0xbb});
  auto provider = make_provider(softhsm, options);
  auto first = provider->generate_key({"", KeyAlgorithm::kEcP256, "first"});
  auto second = provider->generate_key({"", KeyAlgorithm::kEcP256, "second"});
  REQUIRE(first);
  REQUIRE(second);
  CHECK((*first)->key_ref().id == base::Bytes(16, 0xaa));
  CHECK((*second)->key_ref().id == base::Bytes(16, 0xbb));
}

TEST_CASE("a key made by pkcs11-tool is found by URI and signs") {
  SoftHsmToken softhsm;
  auto made = softhsm.pkcs11_tool(
      "--login --pin 1234 --keypairgen --key-type EC:prime256v1 --id 99 --label ext");
  REQUIRE(made.exit_code == 0);
  auto provider = make_provider(softhsm);
  for (const char* uri : {"pkcs11:object=ext;type=private", "pkcs11:id=%99"}) {
    INFO(uri);
    auto signer = provider->find_key_by_uri(uri);
    REQUIRE(signer);
    CHECK((*signer)->algorithm() == KeyAlgorithm::kEcP256);
    CHECK((*signer)->key_ref().id == base::Bytes{0x99});
    const base::Bytes message = {'h', 'i'};
    auto signature = (*signer)->sign(message);
    REQUIRE(signature);
    CHECK(test::openssl_verifies(**signer, message, *signature));
  }
}

TEST_CASE("destroy_key removes both halves of the key pair") {
  SoftHsmToken softhsm;
  auto provider = make_provider(softhsm);
  auto signer = provider->generate_key({"", KeyAlgorithm::kEcP256, "doomed"});
  REQUIRE(signer);
  auto kept = provider->generate_key({"", KeyAlgorithm::kEcP256, "kept"});
  REQUIRE(kept);
  const base::KeyRef ref = (*signer)->key_ref();
  REQUIRE(provider->destroy_key(ref));

  auto found = provider->find_key(ref);
  REQUIRE_FALSE(found);
  CHECK(found.error().code() == ErrorCode::kNotFound);
  auto again = provider->destroy_key(ref);
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == ErrorCode::kNotFound);

  auto listed = softhsm.pkcs11_tool("--login --pin 1234 --list-objects");
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.output.find("doomed") == std::string::npos);  // neither private nor public
  CHECK(listed.output.find("kept") != std::string::npos);

  // The old signer now fails cleanly instead of signing with something else.
  auto signature = (*signer)->sign(base::Bytes{1, 2, 3});
  REQUIRE_FALSE(signature);
  CHECK(signature.error().code() == ErrorCode::kNotFound);
}

TEST_CASE("a signer finds its key again by CKA_ID after its handle went stale") {
  SoftHsmToken softhsm;
  // A software key imported with pkcs11-tool, so that the very same key can be imported again.
  const auto key = softhsm.dir() / "key.der";
  const auto pub = softhsm.dir() / "pub.der";
  REQUIRE(test::run_command("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
                            "-outform DER -out " +
                            key.string() + " && openssl pkey -inform DER -in " + key.string() +
                            " -pubout -outform DER -out " + pub.string())
              .exit_code == 0);
  auto import = [&] {
    REQUIRE(softhsm
                .pkcs11_tool("--login --pin 1234 --write-object " + key.string() +
                             " --type privkey --id 42 --label moving")
                .exit_code == 0);
    REQUIRE(softhsm
                .pkcs11_tool("--login --pin 1234 --write-object " + pub.string() +
                             " --type pubkey --id 42 --label moving")
                .exit_code == 0);
  };
  import();
  auto provider = make_provider(softhsm);
  auto signer = provider->find_key_by_uri("pkcs11:id=%42");
  REQUIRE(signer);
  CHECK((*signer)->public_key_der() == test::read_file(pub));
  const base::Bytes message = {1, 2, 3};
  REQUIRE((*signer)->sign(message));

  // Same key, new objects: the cached handle is stale; the signer finds the key again.
  REQUIRE(provider->destroy_key((*signer)->key_ref()));
  import();
  auto signature = (*signer)->sign(message);
  REQUIRE(signature);
  CHECK(test::openssl_verifies(**signer, message, *signature));
}

TEST_CASE("a signer refuses to sign when its CKA_ID now names a different key") {
  SoftHsmToken softhsm;
  REQUIRE(softhsm
              .pkcs11_tool("--login --pin 1234 --keypairgen --key-type EC:prime256v1 --id 42 "
                           "--label moving")
              .exit_code == 0);
  auto provider = make_provider(softhsm);
  auto signer = provider->find_key_by_uri("pkcs11:id=%42");
  REQUIRE(signer);
  REQUIRE(provider->destroy_key((*signer)->key_ref()));
  REQUIRE(softhsm
              .pkcs11_tool("--login --pin 1234 --keypairgen --key-type EC:prime256v1 --id 42 "
                           "--label moving")
              .exit_code == 0);
  auto signature = (*signer)->sign(base::Bytes{1});
  REQUIRE_FALSE(signature);
  CHECK(signature.error().code() == ErrorCode::kConflict);
  CHECK(signature.error().message().find("replaced by a different key") != std::string::npos);
}

TEST_CASE("an operator's PIN logs a token in; a wrong one is refused and leaves it logged out") {
  SoftHsmToken softhsm;
  // No PIN source: the token can only be logged in with a PIN given to log_in().
  hsm::PinSource none = [](const hsm::TokenInfo&) -> base::Result<base::SecureBuffer> {
    return base::Error(ErrorCode::kInvalidArgument, "no PIN here");
  };
  auto provider = hsm::Pkcs11KeyProvider::create({softhsm.module()}, "", none);
  REQUIRE(provider);
  auto tokens = (*provider)->tokens();
  REQUIRE(tokens);
  REQUIRE(tokens->size() == 1);
  const auto& token = tokens->front();
  CHECK_FALSE((*provider)->logged_in(token));
  CHECK_FALSE((*provider)->list_keys(token.serial));

  auto wrong =
      (*provider)->log_in(token.serial, base::SecureBuffer::copy_of(base::as_bytes("9999")));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code() == ErrorCode::kPinIncorrect);
  CHECK(wrong.error().describe().find("9999") == std::string::npos);
  CHECK_FALSE((*provider)->logged_in(token));

  auto right =
      (*provider)->log_in(token.label, base::SecureBuffer::copy_of(base::as_bytes("1234")));
  REQUIRE(right);
  CHECK((*provider)->logged_in(token));
  CHECK((*provider)->list_keys(token.serial));
  // Once logged in, a second login sends no PIN and succeeds.
  CHECK((*provider)->log_in(token.serial, base::SecureBuffer::copy_of(base::as_bytes("9999"))));
}
