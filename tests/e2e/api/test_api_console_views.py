"""What the console's administration pages ask of the REST API, over real HTTPS: the audit log
newest first with `order=desc` and `before` pages, its time range (`since`, `until`) and text
(`q`) filters (on the export too), the audit public key as a PEM file, a profile enabled again
(audited as profile.enabled)."""
import datetime
import json
import unittest

from signetd_fixture import Appliance


def utc(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


class ConsoleViewsApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # No scheduled checkpoint: the test says when the first one (and the audit key) is made.
        cls.app = Appliance(config={"logging": {"audit_checkpoint_interval_minutes": 0}}).start()
        cls.admin = cls.app.login()
        # A few state changes to list: a profile made, disabled and enabled again.
        r = cls.app.request("POST", "/api/v1/profiles", {"name": "views", "ca": "issuing"},
                            session=cls.admin)
        assert r.status == 201, r
        cls.disabled = cls.app.request("POST", "/api/v1/profiles/issuing/views/disable",
                                       session=cls.admin).json()
        cls.enabled = cls.app.request("POST", "/api/v1/profiles/issuing/views/enable",
                                      session=cls.admin)

    @classmethod
    def tearDownClass(cls):
        cls.app.close()

    def get(self, path, status=200):
        r = self.app.request("GET", path, session=self.admin)
        self.assertEqual(r.status, status, r)
        return r

    def all_events(self):
        return self.get("/api/v1/audit?limit=10000").json()["items"]

    def test_enable_makes_a_new_version_and_audits_profile_enabled(self):
        self.assertEqual(self.enabled.status, 200, self.enabled)
        body = self.enabled.json()
        self.assertTrue(body["enabled"])
        self.assertEqual(body["version"], self.disabled["version"] + 1)
        actions = [e["action"] for e in self.all_events() if e["object"] == "profile:issuing/views"]
        self.assertEqual(actions, ["profile.created", "profile.disabled", "profile.enabled"])
        # Enabling an enabled profile changes nothing and records nothing.
        again = self.app.request("POST", "/api/v1/profiles/issuing/views/enable",
                                 session=self.admin).json()
        self.assertEqual(again["version"], body["version"])
        missing = self.app.request("POST", "/api/v1/profiles/issuing/nosuch/enable",
                                   session=self.admin)
        self.assertEqual(missing.status, 404)

    def test_newest_first_pages_by_before_and_cover_the_log_once(self):
        everything = [e["sequence"] for e in self.all_events()]
        self.assertGreater(len(everything), 6)
        seen = []
        before = None
        while True:
            path = "/api/v1/audit?order=desc&limit=3" + ("&before=%d" % before if before else "")
            page = self.get(path).json()
            seen += [e["sequence"] for e in page["items"]]
            self.assertNotIn("next_after", page)
            before = page["next_before"]
            if before is None:
                break
            self.assertEqual(before, page["items"][-1]["sequence"])
        self.assertEqual(seen, sorted(everything, reverse=True))

    def test_desc_filters_and_wrong_paging_parameters(self):
        page = self.get("/api/v1/audit?order=desc&action=profile.&limit=2").json()
        self.assertEqual([e["action"] for e in page["items"]],
                         ["profile.enabled", "profile.disabled"])
        for query, words in (("order=desc&after=3", "before"), ("before=3", "order=desc"),
                             ("order=up", "order")):
            r = self.get("/api/v1/audit?" + query, status=400)
            self.assertIn(words, r.json()["error"]["message"])

    def test_text_filter_matches_actor_action_object_and_detail_in_any_case(self):
        by_object = self.get("/api/v1/audit?q=ISSUING/VIEWS").json()["items"]
        self.assertEqual({e["object"] for e in by_object}, {"profile:issuing/views"})
        by_actor = self.get("/api/v1/audit?q=operator:ADMIN").json()["items"]
        self.assertTrue(by_actor)
        self.assertTrue(all("operator:admin" in json.dumps(e).lower() for e in by_actor))
        # "default_days" appears only in the detail of profile events.
        by_detail = self.get("/api/v1/audit?q=default_days").json()["items"]
        self.assertTrue(by_detail)
        self.assertTrue(all(e["action"].startswith("profile.") for e in by_detail))
        self.assertEqual(self.get("/api/v1/audit?q=no-such-text-anywhere").json()["items"], [])

    def test_time_range_is_since_inclusive_until_exclusive(self):
        events = self.all_events()
        pivot = events[len(events) // 2]
        # Times are shown to the second; the range filter compares the stored time.
        since = pivot["time"]
        later = self.get("/api/v1/audit?limit=10000&since=" + since).json()["items"]
        self.assertTrue(later)
        self.assertTrue(all(utc(e["time"]) >= utc(since) for e in later))
        self.assertIn(pivot["sequence"], [e["sequence"] for e in later])
        until_end = (utc(events[-1]["time"]) + datetime.timedelta(seconds=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        earlier = self.get("/api/v1/audit?limit=10000&until=" + until_end).json()["items"]
        self.assertEqual(len(earlier), len(events))
        future = self.get("/api/v1/audit?since=2200-01-01T00:00:00Z").json()["items"]
        self.assertEqual(future, [])
        past = self.get("/api/v1/audit?order=desc&until=2000-01-01T00:00:00Z").json()
        self.assertEqual(past["items"], [])
        r = self.get("/api/v1/audit?since=yesterday", status=400)
        self.assertIn("since", r.json()["error"]["message"])

    def test_export_takes_the_same_filters(self):
        r = self.get("/api/v1/audit/export?q=issuing/views")
        lines = [json.loads(l) for l in r.body.decode().splitlines() if l.strip()]
        self.assertEqual([l["action"] for l in lines],
                         ["profile.created", "profile.disabled", "profile.enabled"])
        self.assertTrue(all(l["type"] == "event" for l in lines))

    def test_pubkey_as_a_pem_file_after_the_first_checkpoint(self):
        self.get("/api/v1/audit/pubkey?format=pem", status=404)
        r = self.app.request("POST", "/api/v1/audit/checkpoints", session=self.admin)
        self.assertEqual(r.status, 201, r)
        pem = self.get("/api/v1/audit/pubkey?format=pem")
        self.assertEqual(pem.header("Content-Type"), "application/x-pem-file")
        self.assertIn("signet-audit.pem", pem.header("Content-Disposition"))
        self.assertEqual(pem.body.decode(), self.get("/api/v1/audit/pubkey").json()["public_key_pem"])
        self.get("/api/v1/audit/pubkey?format=der", status=400)


if __name__ == "__main__":
    unittest.main()
