"""Token-holder enrollment on smart cards through signetd's REST API (/api/v1/cards): real pcscd
with vsmartcard's virtual reader and card (pcsc_stack.py), the card's ATR mapped to the
fault-injecting PKCS#11 module in front of a SoftHSM token "card-1" in the appliance's SoftHSM
store (beside the appliance's own token "signet"). signetd loads the card modules at start-up
and runs with its seccomp filter and card support on ([cards] in its configuration).

Checked with independent tools: every issued certificate with `openssl verify`, the card's
objects with OpenSC's pkcs11-tool.
"""
import json
import os
import subprocess
import time
import unittest
import urllib.parse

import pcsc_stack
from pcsc_stack import PcscStack
from signetd_fixture import Appliance

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
CARD_PIN = "123456"
CARD_SO_PIN = "87654321"
SUBJECT = "CN=Ada Lovelace,O=Example"
# Liveness bounds only (the sanitizer builds are slow); no assertion depends on timing.
JOB_LIMIT = 300


def run(*args, env=None, check=True):
    result = subprocess.run(list(args), capture_output=True, timeout=120, env=env)
    if check and result.returncode != 0:
        raise AssertionError("%s failed (%d): %s %s" % (" ".join(args), result.returncode,
                                                       result.stdout.decode(errors="replace"),
                                                       result.stderr.decode(errors="replace")))
    return result


class CardApiFixture:
    """signetd with card support, pcscd with the virtual card, the card's ATR mapped to the fault
    module in front of "card-1" as a card of type CARD_TYPE, its faults BASE_FAULTS."""
    CARD_TYPE = None
    BASE_FAULTS = ""

    @classmethod
    def setUpClass(cls):
        cls.stack = PcscStack().start()
        try:
            cls._set_up_appliance()
        except BaseException:
            cls.stack.stop()
            raise

    @classmethod
    def _set_up_appliance(cls):
        control_dir = os.path.join(cls.stack.dir, "faults")
        os.makedirs(control_dir)
        cls.control = os.path.join(control_dir, "control")
        with open(cls.control, "w") as f:
            f.write(cls.BASE_FAULTS)
        cls.fault_module = os.environ["SIGNET_FAULT_PKCS11"]
        cls.app = Appliance(create_cas=False,
                            env_extra={"SIGNET_FAULT_CONTROL": cls.control,
                                       "SIGNET_FAULT_REAL_MODULE": SOFTHSM})
        app = cls.app
        app.cli("ca", "create-root", "--name", "root", "--subject", "CN=Card Root,O=Signet Tests",
                "--key", "ec-p384")
        app.cli("ca", "create-intermediate", "--name", "issuing", "--parent", "root",
                "--subject", "CN=Card Issuing,O=Signet Tests", "--key", "ec-p256",
                "--path-length", "0")
        app.cli("profile", "create", "--ca", "issuing", "--name", "holder", "--key-algorithms",
                "ec-p256,ec-p384,rsa-2048", "--allow-email", "true", "--upn-realms",
                "corp.example", "--key-usage", "digitalSignature", "--eku",
                "clientAuth,emailProtection")
        cls.softhsm_conf = os.path.join(app.state, "softhsm", "softhsm2.conf")
        run("softhsm2-util", "--init-token", "--free", "--label", "card-1", "--pin", CARD_PIN,
            "--so-pin", CARD_SO_PIN, env=dict(os.environ, SOFTHSM2_CONF=cls.softhsm_conf))
        cls.atr_map = os.path.join(app.dir, "atr-map.json")
        rule = {"name": "virtual card", "atr": "3B:95:13:81:01:80:73:FF:01:00:0B",
                "module": cls.fault_module, "token": "card-1"}
        if cls.CARD_TYPE:
            rule["type"] = cls.CARD_TYPE
        with open(cls.atr_map, "w") as f:
            json.dump({"cards": [rule]}, f)
        app.config = {"cards": {"enabled": True, "atr_map": cls.atr_map,
                                "card_wait_seconds": 60}}
        app.start()
        cls.token = app.make_token("administrator", name="card test admin")
        cls.officer = app.make_token("ra-officer", name="card test officer")
        cls.auditor = app.make_token("auditor", name="card test auditor")
        cls.root_file = os.path.join(app.dir, "root.pem")
        cls.issuing_file = os.path.join(app.dir, "issuing.pem")
        for name, path in (("root", cls.root_file), ("issuing", cls.issuing_file)):
            r = app.request("GET", "/api/v1/cas/%s/certificate" % name, token=cls.token)
            assert r.status == 200, r
            with open(path, "wb") as f:
                f.write(r.body)
        cls.stack.card_present = cls.card_present

    @classmethod
    def tearDownClass(cls):
        try:
            cls.app.close()
        finally:
            cls.stack.stop()

    def setUp(self):
        self.faults("")
        if not self.card_present():
            self.stack.insert_card()

    # ---- helpers ----
    @classmethod
    def readers(cls):
        r = cls.app.request("GET", "/api/v1/cards/readers", token=cls.token)
        assert r.status == 200, r
        return r.json()["items"]

    @classmethod
    def card_present(cls):
        return any(x["name"] == pcsc_stack.READER and x["card_present"] for x in cls.readers())

    def faults(self, directives):
        tmp = self.control + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.BASE_FAULTS + directives)
        os.rename(tmp, self.control)

    def call(self, method, path, body=None, expect=None, token=None):
        r = self.app.request(method, path, body, token=token or self.officer)
        if expect is not None:
            self.assertEqual(r.status, expect, "%s %s: %r" % (method, path, r))
        return r

    def enroll(self, pin=CARD_PIN, **extra):
        body = {"profile": "holder", "subject": SUBJECT, "sans": ["email:ada@example.com"],
                "pin": pin}
        body.update(extra)
        r = self.call("POST", "/api/v1/cards/enrollments", body, expect=202)
        job = r.json()
        self.assertEqual(r.header("Location"), "/api/v1/cards/jobs/%d" % job["id"])
        self.assertNotIn(pin, r.body.decode())
        return job

    def job(self, job_id):
        return self.call("GET", "/api/v1/cards/jobs/%d" % job_id, expect=200).json()

    def wait_job(self, job_id, until=lambda j: j["final"]):
        deadline = time.monotonic() + JOB_LIMIT
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if until(job):
                return job
            time.sleep(0.2)
        self.fail("card job %d did not get there: %r\n%s" % (job_id, self.job(job_id),
                                                              self.app.read_log()))

    def card_tool(self, *args):
        return run("pkcs11-tool", "--module", SOFTHSM, "--token-label", "card-1", "--login",
                   "--pin", CARD_PIN, *args,
                   env=dict(os.environ, SOFTHSM2_CONF=self.softhsm_conf)).stdout.decode()

    def card_objects(self):
        return self.card_tool("--list-objects")

    def audit_actions(self):
        r = self.app.request("GET", "/api/v1/audit?limit=200", token=self.auditor)
        self.assertEqual(r.status, 200, r)
        return [e["action"] for e in r.json()["items"]]


class CardEnrollmentApiTest(CardApiFixture, unittest.TestCase):
    # ---- tests ----
    def test_readers_list_the_card_its_module_and_its_token(self):
        readers = {x["name"]: x for x in self.readers()}
        self.assertIn(pcsc_stack.READER, readers)
        reader = readers[pcsc_stack.READER]
        self.assertTrue(reader["card_present"])
        self.assertEqual(reader["atr"], pcsc_stack.VIRTUAL_CARD_ATR)
        self.assertIsNone(reader["error"], reader)
        card = reader["card"]
        self.assertEqual(card["rule"], "virtual card")
        self.assertEqual(card["module"], self.fault_module)
        self.assertEqual(card["type"], "generic")
        self.assertEqual(card["token"]["label"], "card-1")
        self.assertFalse(card["token"]["user_pin_locked"])
        others = [x for x in readers.values() if x["name"] != pcsc_stack.READER]
        self.assertTrue(all(not x["card_present"] and x["card"] is None for x in others))
        # The PIN counters the token reports are passed on as they are.
        self.faults("pin count_low\n")
        reader = {x["name"]: x for x in self.readers()}[pcsc_stack.READER]
        self.assertTrue(reader["card"]["token"]["user_pin_count_low"])

    def test_signetd_loaded_the_card_modules_at_start_and_kept_its_seccomp_filter(self):
        log = self.app.read_log()
        self.assertIn("cards: rule 'virtual card' uses " + self.fault_module, log)
        if "seccomp: the syscall allowlist is installed" in log:
            self.assertIn("smart cards: AF_UNIX sockets and poll for pcscd", log)
        else:  # sanitizer builds run without the filter, and say so
            self.assertIn("no syscall filter", log)
        # Everything above ran under the filter: signetd is still alive.
        self.assertIsNone(self.app.process.poll())

    def test_algorithms_offered_are_those_the_profile_and_the_card_both_allow(self):
        r = self.call("GET", "/api/v1/cards/algorithms?profile=holder", expect=200).json()
        self.assertEqual(r["reader"], pcsc_stack.READER)
        self.assertTrue(r["algorithms"])
        self.assertTrue(set(r["algorithms"]) <= {"ec-p256", "ec-p384", "rsa-2048"}, r)
        self.assertIn("ec-p256", r["algorithms"])
        r = self.call("GET", "/api/v1/cards/algorithms?profile=nosuch", expect=404)
        self.assertEqual(r.json()["error"]["code"], "not_found")

    def test_enrollment_issues_a_verifying_certificate_that_the_card_and_inventory_hold(self):
        job = self.enroll(key="ec-p256")
        self.assertIn(job["state"], ("waiting_for_card", "opening", "generating", "issuing",
                                     "writing", "done"))
        done = self.wait_job(job["id"])
        self.assertEqual(done["state"], "done", done)
        self.assertIsNotNone(done["order_id"])
        steps = [p["step"] for p in done["progress"]]
        self.assertIn("key-generation", steps)
        self.assertIn("writing", steps)
        result = done["result"]
        pem = result["pem"]
        leaf = os.path.join(self.app.dir, "card-leaf.pem")
        with open(leaf, "w") as f:
            f.write(pem)
        out = run("openssl", "verify", "-CAfile", self.root_file, "-untrusted",
                  self.issuing_file, "-purpose", "smimesign", leaf).stdout.decode()
        self.assertIn(": OK", out)
        # The inventory has it, with the card's key as its key location.
        serial = result["certificate"]["serial"]
        r = self.call("GET", "/api/v1/certificates/" + serial.replace(":", ""), expect=200)
        record = r.json()
        card_serial = done["card"]["token"]["serial"]
        self.assertIn("serial=" + card_serial, record["key_location"])
        order = self.call("GET", "/api/v1/orders/%d" % done["order_id"], expect=200).json()
        self.assertEqual(order["status"], "complete")
        # The card holds the same certificate beside its key (same CKA_ID).
        key_uri = result["key_uri"]
        key_id = urllib.parse.unquote_to_bytes(
            key_uri.split("id=")[1].split(";")[0]).hex()
        der = os.path.join(self.app.dir, "card-cert.der")
        self.card_tool("--read-object", "--type", "cert", "--id", key_id, "-o", der)
        on_card = run("openssl", "x509", "-inform", "DER", "-in", der).stdout.decode()
        self.assertEqual(on_card.strip(), pem.strip())
        objects = self.card_objects()
        self.assertIn("Private Key Object", objects)
        # The PIN is nowhere: not in the job, not in signetd's log.
        self.assertNotIn(CARD_PIN, json.dumps(done))
        self.assertNotIn(CARD_PIN, self.app.read_log())
        actions = self.audit_actions()
        self.assertIn("card.job_submitted", actions)
        self.assertIn("card.enrolled", actions)

    def test_a_wrong_pin_gives_the_tries_state_and_a_locked_card_423(self):
        r = self.call("POST", "/api/v1/cards/pin/verify", {"pin": "000000"}, expect=403)
        error = r.json()["error"]
        self.assertEqual(error["code"], "pin_incorrect")
        self.assertIn("user_pin_final_try", error["token"])
        self.assertNotIn("000000", r.body.decode())
        self.faults("pin final_try\n")
        r = self.call("POST", "/api/v1/cards/pin/verify", {"pin": "000000"}, expect=403)
        self.assertTrue(r.json()["error"]["token"]["user_pin_final_try"])
        self.faults("pin locked\n")
        r = self.call("POST", "/api/v1/cards/pin/verify", {"pin": CARD_PIN}, expect=423)
        self.assertEqual(r.json()["error"]["code"], "pin_locked")
        self.assertIn("unblock", r.json()["error"]["message"])
        self.faults("")
        r = self.call("POST", "/api/v1/cards/pin/verify", {"pin": CARD_PIN}, expect=200)
        self.assertTrue(r.json()["verified"])
        # An enrollment with a wrong PIN fails its job with the PIN state.
        job = self.wait_job(self.enroll(pin="999999")["id"])
        self.assertEqual(job["state"], "failed", job)
        self.assertEqual(job["error"]["code"], "pin_incorrect", job)
        self.assertIn("user_pin_count_low", job["error"]["token"])
        # A PIN is required and never echoed.
        r = self.call("POST", "/api/v1/cards/enrollments", {"profile": "holder"}, expect=400)
        self.assertIn("pin", r.json()["error"]["message"])

    def test_removing_the_card_during_key_generation_fails_the_job_and_the_order(self):
        before = self.card_objects().count("Private Key Object")
        self.faults("delay C_GenerateKeyPair 6000\n")
        job = self.enroll(key="ec-p256")
        generating = self.wait_job(job["id"], lambda j: j["state"] == "generating" or j["final"])
        self.assertEqual(generating["state"], "generating", generating)
        self.stack.remove_card()
        failed = self.wait_job(job["id"])
        self.assertEqual(failed["state"], "failed", failed)
        self.assertIn("removed", failed["error"]["message"])
        self.assertIsNotNone(failed["order_id"], failed)
        order = self.call("GET", "/api/v1/orders/%d" % failed["order_id"], expect=200).json()
        self.assertEqual(order["status"], "failed")
        self.faults("")
        self.stack.insert_card()
        self.assertEqual(self.card_objects().count("Private Key Object"), before,
                         "the failed enrollment left a key on the card")

    def test_a_job_waiting_for_a_card_is_cancelled_cleanly(self):
        self.stack.remove_card()
        job = self.enroll()
        waiting = self.wait_job(job["id"], lambda j: j["state"] == "waiting_for_card" and
                                j["progress"])
        self.assertEqual(waiting["state"], "waiting_for_card")
        # A second job on the same reader is refused while this one runs.
        r = self.call("POST", "/api/v1/cards/enrollments",
                      {"profile": "holder", "subject": SUBJECT, "pin": CARD_PIN}, expect=409)
        self.assertEqual(r.json()["error"]["code"], "conflict")
        self.call("DELETE", "/api/v1/cards/jobs/%d" % job["id"], expect=200)
        cancelled = self.wait_job(job["id"])
        self.assertEqual(cancelled["state"], "cancelled", cancelled)
        self.assertIsNone(cancelled["order_id"])
        self.call("DELETE", "/api/v1/cards/jobs/%d" % job["id"], expect=409)
        self.assertIn("card.job_cancelled", self.audit_actions())

    def test_rekey_with_revoke_previous_then_renew_on_the_card(self):
        first = self.wait_job(self.enroll(key="ec-p256")["id"])
        self.assertEqual(first["state"], "done", first)
        old_serial = first["result"]["certificate"]["serial"].replace(":", "")
        r = self.call("POST", "/api/v1/cards/rekeys",
                      {"certificate": old_serial, "key": "ec-p384", "revoke_previous": True,
                       "pin": CARD_PIN}, expect=202)
        rekeyed = self.wait_job(r.json()["id"])
        self.assertEqual(rekeyed["state"], "done", rekeyed)
        self.assertEqual(rekeyed["kind"], "rekey")
        self.assertEqual(rekeyed["result"]["certificate"]["key_algorithm"], "ec-p384")
        self.assertNotEqual(rekeyed["result"]["key_uri"], first["result"]["key_uri"])
        old = self.call("GET", "/api/v1/certificates/" + old_serial, expect=200).json()
        self.assertEqual(old["status"], "revoked")
        new_serial = rekeyed["result"]["certificate"]["serial"].replace(":", "")
        r = self.call("POST", "/api/v1/cards/renewals", {"certificate": new_serial,
                                                         "pin": CARD_PIN}, expect=202)
        renewed = self.wait_job(r.json()["id"])
        self.assertEqual(renewed["state"], "done", renewed)
        self.assertEqual(renewed["result"]["key_uri"], rekeyed["result"]["key_uri"])
        self.assertIn("card.rekeyed", self.audit_actions())
        self.assertIn("card.renewed", self.audit_actions())

    def test_signet_card_enroll_goes_through_the_running_signetd(self):
        pin_file = self.app.secret_file("card.pin", CARD_PIN)
        token_file = self.app.secret_file("officer.token", self.officer)
        result = self.app.cli("--json", "card", "enroll", "--profile", "holder", "--key",
                              "ec-p384", "--subject", "CN=Charles Babbage,O=Example", "--san",
                              "email:charles@example.com", "--card-pin-file", pin_file,
                              "--token-file", token_file)
        job = json.loads(result.stdout)
        self.assertEqual(job["state"], "done", job)
        self.assertEqual(job["requested_by"].split(":")[0], "token")
        self.assertIn("[key-generation]", result.stderr.decode())
        leaf = os.path.join(self.app.dir, "cli-leaf.pem")
        with open(leaf, "w") as f:
            f.write(job["result"]["pem"])
        out = run("openssl", "verify", "-CAfile", self.root_file, "-untrusted",
                  self.issuing_file, leaf).stdout.decode()
        self.assertIn(": OK", out)
        self.assertEqual(job["result"]["certificate"]["key_algorithm"], "ec-p384")
        # A wrong PIN: the command fails and says why, without the PIN.
        wrong = self.app.secret_file("wrong.pin", "999999")
        result = self.app.cli("card", "enroll", "--profile", "holder", "--subject",
                              "CN=Charles Babbage", "--card-pin-file", wrong, "--token-file",
                              token_file, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("PIN", result.stderr.decode())
        self.assertNotIn("999999", result.stderr.decode() + result.stdout.decode())

    def test_the_pin_is_changed_and_a_locked_pin_unblocked_with_the_puk(self):
        r = self.call("POST", "/api/v1/cards/pin/change",
                      {"pin": "000000", "new_pin": "654321"}, expect=403)
        self.assertEqual(r.json()["error"]["code"], "pin_incorrect")
        self.assertIn("user_pin_final_try", r.json()["error"]["token"])
        r = self.call("POST", "/api/v1/cards/pin/change",
                      {"pin": CARD_PIN, "new_pin": "654321"}, expect=200)
        self.assertTrue(r.json()["changed"])
        self.assertNotIn("654321", r.body.decode())
        self.call("POST", "/api/v1/cards/pin/verify", {"pin": "654321"}, expect=200)
        # Locked: a change is refused with 423; the PUK unblocks and sets the PIN back.
        self.faults("pin locked\n")
        r = self.call("POST", "/api/v1/cards/pin/change",
                      {"pin": "654321", "new_pin": CARD_PIN}, expect=423)
        self.assertIn("unblock", r.json()["error"]["message"])
        self.faults("")
        r = self.call("POST", "/api/v1/cards/pin/unblock",
                      {"puk": "11111111", "new_pin": CARD_PIN}, expect=403)
        r = self.call("POST", "/api/v1/cards/pin/unblock",
                      {"puk": CARD_SO_PIN, "new_pin": CARD_PIN}, expect=200)
        self.assertTrue(r.json()["unblocked"])
        self.call("POST", "/api/v1/cards/pin/verify", {"pin": CARD_PIN}, expect=200)
        self.assertNotIn(CARD_SO_PIN, self.app.read_log())
        actions = self.audit_actions()
        for action in ("card.pin_changed", "card.pin_change_failed", "card.pin_unblocked",
                       "card.pin_unblock_failed"):
            self.assertIn(action, actions)

    def test_auditors_may_list_readers_but_not_enroll(self):
        r = self.app.request("GET", "/api/v1/cards/readers", token=self.auditor)
        self.assertEqual(r.status, 200, r)
        r = self.app.request("POST", "/api/v1/cards/enrollments",
                             {"profile": "holder", "pin": CARD_PIN}, token=self.auditor)
        self.assertEqual(r.status, 403, r)


# A YubiKey's factory management key (3DES), in the hex ykcs11 takes as the SO PIN.
MANAGEMENT_KEY = "010203040506070801020304050607080102030405060708"
WRONG_KEY = "0f0e0d0c0b0a09080f0e0d0c0b0a09080f0e0d0c0b0a0908"


class PivCardApiTest(CardApiFixture, unittest.TestCase):
    """The same card as a YubiKey through ykcs11 (the fault module's ykcs11 mode): key
    generation and certificate writes only under an SO login with the PIV management key, which
    travels in the POST body like the PIN; fixed PIV slots."""
    CARD_TYPE = "ykcs11"
    BASE_FAULTS = "ykcs11 %s %s\n" % (MANAGEMENT_KEY, CARD_PIN)

    def assert_secrets_nowhere(self, *texts):
        for text in texts + (self.app.read_log(),):
            self.assertNotIn(MANAGEMENT_KEY, text)
            self.assertNotIn(WRONG_KEY, text)

    def test_readers_say_the_card_needs_the_management_key_and_has_piv_slots(self):
        card = {x["name"]: x for x in self.readers()}[pcsc_stack.READER]["card"]
        self.assertEqual(card["type"], "ykcs11")
        self.assertTrue(card["needs_management_key"])
        self.assertEqual(card["key_slots"], ["9a", "9c", "9d", "9e"])

    def test_enrollment_needs_the_right_management_key(self):
        before = self.card_objects().count("Private Key Object")
        # Without it: the job fails before anything is generated, and says what is missing.
        failed = self.wait_job(self.enroll(key="ec-p256")["id"])
        self.assertEqual(failed["state"], "failed", failed)
        self.assertIn("management key", failed["error"]["message"])
        self.assertIn("none was given", failed["error"]["message"])
        # Malformed: refused at once, without quoting it.
        r = self.call("POST", "/api/v1/cards/enrollments",
                      {"profile": "holder", "subject": SUBJECT, "pin": CARD_PIN,
                       "management_key": "not-a-management-key-but-long-enough"}, expect=400)
        self.assertIn("management_key", r.json()["error"]["message"])
        self.assertIn("hex digits", r.json()["error"]["message"])
        self.assertNotIn("not-a-management-key", r.body.decode())
        # Wrong: the card refuses the SO login; nothing stays on the card.
        wrong = self.wait_job(self.enroll(key="ec-p256", management_key=WRONG_KEY)["id"])
        self.assertEqual(wrong["state"], "failed", wrong)
        self.assertIn("security officer PIN", wrong["error"]["message"])
        self.assertIn("incorrect", wrong["error"]["message"])
        self.assertEqual(self.card_objects().count("Private Key Object"), before)
        self.assert_secrets_nowhere(json.dumps(failed), json.dumps(wrong))

    def test_enrollment_with_the_management_key_into_a_chosen_slot(self):
        job = self.enroll(key="ec-p256", management_key=MANAGEMENT_KEY, slot="9c")
        done = self.wait_job(job["id"])
        self.assertEqual(done["state"], "done", done)
        self.assertIn("id=%02", done["result"]["key_uri"])
        leaf = os.path.join(self.app.dir, "piv-leaf.pem")
        with open(leaf, "w") as f:
            f.write(done["result"]["pem"])
        out = run("openssl", "verify", "-CAfile", self.root_file, "-untrusted",
                  self.issuing_file, leaf).stdout.decode()
        self.assertIn(": OK", out)
        der = os.path.join(self.app.dir, "piv-cert.der")
        self.card_tool("--read-object", "--type", "cert", "--id", "02", "-o", der)
        on_card = run("openssl", "x509", "-inform", "DER", "-in", der).stdout.decode()
        self.assertEqual(on_card.strip(), done["result"]["pem"].strip())
        self.assert_secrets_nowhere(json.dumps(done))
        r = self.app.request("GET", "/api/v1/audit?limit=200", token=self.auditor)
        submitted = [e for e in r.json()["items"] if e["action"] == "card.job_submitted"
                     and e["object"] == "card-job:%d" % job["id"]]
        self.assertEqual(len(submitted), 1, submitted)
        self.assertIs(submitted[0]["detail"]["management_key_given"], True)
        self.assertEqual(submitted[0]["detail"]["slot"], "9c")

    def test_a_failed_enrollment_is_resubmitted_through_the_api(self):
        self.faults("fail C_GenerateKeyPair CKR_DEVICE_ERROR\n")
        failed = self.wait_job(self.enroll(key="ec-p256", management_key=MANAGEMENT_KEY,
                                           slot="9e")["id"])
        self.assertEqual(failed["state"], "failed", failed)
        order_id = failed["order_id"]
        self.assertIsNotNone(order_id, failed)
        self.faults("")
        # The PIN and the management key are needed again: the card is changed.
        r = self.call("POST", "/api/v1/cards/resubmissions", {"order": order_id}, expect=400)
        self.assertIn("pin", r.json()["error"]["message"])
        r = self.call("POST", "/api/v1/cards/resubmissions",
                      {"order": order_id, "pin": CARD_PIN, "management_key": MANAGEMENT_KEY,
                       "slot": "9e"}, expect=202)
        job = r.json()
        self.assertEqual(job["kind"], "resubmit")
        self.assertEqual(job["resubmit_order"], order_id)
        done = self.wait_job(job["id"])
        self.assertEqual(done["state"], "done", done)
        self.assertIn("id=%04", done["result"]["key_uri"])
        order = self.call("GET", "/api/v1/orders/%d" % done["order_id"], expect=200).json()
        self.assertEqual(order["status"], "complete")
        self.assertEqual(order["resubmitted_from"], order_id)
        self.assertIn("Ada Lovelace", done["result"]["certificate"]["subject"])
        # Once completed, the failed order is not resubmitted a second time.
        again = self.wait_job(self.call(
            "POST", "/api/v1/cards/resubmissions",
            {"order": order_id, "pin": CARD_PIN, "management_key": MANAGEMENT_KEY},
            expect=202).json()["id"])
        self.assertEqual(again["state"], "failed", again)
        self.assertIn("resubmitted already", again["error"]["message"])
        # A completed order is no failed card enrollment.
        r = self.call("POST", "/api/v1/cards/resubmissions",
                      {"order": done["order_id"], "pin": CARD_PIN}, expect=400)
        self.assertIn("only a failed order", r.json()["error"]["message"])
        self.call("POST", "/api/v1/cards/resubmissions", {"order": 999999, "pin": CARD_PIN},
                  expect=404)
        self.assertIn("card.resubmitted", self.audit_actions())

    def test_signet_card_enroll_through_signetd_takes_slot_key_file_and_resubmit(self):
        pin_file = self.app.secret_file("piv.pin", CARD_PIN)
        key_file = self.app.secret_file("piv.key", MANAGEMENT_KEY)
        token_file = self.app.secret_file("piv-officer.token", self.officer)
        # A failure first (generation refused by the card), then the CLI resubmits the order,
        # the management key from standard input after the PIN (--pin-stdin), as signetd
        # reports that this card needs one.
        self.faults("fail C_GenerateKeyPair CKR_DEVICE_ERROR\n")
        result = self.app.cli("--json", "card", "enroll", "--profile", "holder", "--subject",
                              "CN=Grace Hopper,O=Example", "--slot", "9d", "--card-pin-file",
                              pin_file, "--management-key-file", key_file, "--token-file",
                              token_file, check=False)
        self.assertNotEqual(result.returncode, 0)
        message = result.stderr.decode()
        self.assertIn("(order ", message)
        order_id = int(message.rsplit("(order ", 1)[1].split(")")[0])
        self.faults("")
        result = self.app.cli("--json", "card", "enroll", "--resubmit", str(order_id), "--slot",
                              "9d", "--pin-stdin", "--token-file", token_file,
                              input=("%s\n%s\n" % (CARD_PIN, MANAGEMENT_KEY)).encode())
        job = json.loads(result.stdout)
        self.assertEqual(job["state"], "done", job)
        self.assertEqual(job["kind"], "resubmit")
        self.assertIn("id=%03", job["result"]["key_uri"])
        # --resubmit runs the stored request: a new one's fields are refused with it.
        result = self.app.cli("card", "enroll", "--resubmit", str(order_id), "--profile",
                              "holder", "--card-pin-file", pin_file, "--token-file", token_file,
                              check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("cannot be given with it", result.stderr.decode())
        # A key file readable by others is refused, as locally.
        os.chmod(key_file, 0o644)
        result = self.app.cli("card", "rekey", job["result"]["certificate"]["serial"],
                              "--card-pin-file", pin_file, "--management-key-file", key_file,
                              "--token-file", token_file, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(key_file, result.stderr.decode())
        self.assert_secrets_nowhere(result.stdout.decode(), result.stderr.decode())




if __name__ == "__main__":
    unittest.main()
