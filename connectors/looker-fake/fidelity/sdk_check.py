#!/usr/bin/env python3
"""Drives the fake Looker with the official Python SDK (looker-sdk from PyPI).

Configuration comes from the environment, as for any Looker40SDK:
LOOKERSDK_BASE_URL, LOOKERSDK_CLIENT_ID, LOOKERSDK_CLIENT_SECRET, LOOKERSDK_VERIFY_SSL=false.
FAKE_LOOKER_SLOW_QUERY_SECS tells how long the slow dashboard's cold query takes (default 45).

It asserts on the demo instance documented in connectors/looker-fake/README.md and exits
non-zero on the first failed check. Run by tests/sdk_fidelity.rs.
"""

import json
import os
import sys
import time

try:
    import looker_sdk
    from looker_sdk import error as sdk_error
    from looker_sdk.sdk.api40 import models
except ImportError as exc:  # the Rust test turns this into a clear failure
    print(f"looker_sdk is not importable ({exc}); run: pip install looker-sdk", file=sys.stderr)
    sys.exit(3)

checks = 0


def check(condition, message):
    global checks
    if not condition:
        raise AssertionError(message)
    checks += 1


def main():
    sdk = looker_sdk.init40()

    # login (explicitly, then implicitly on every call with Bearer tokens)
    sdk.auth.authenticate(sdk.transport_options if hasattr(sdk, "transport_options") else {})
    check(sdk.auth.is_authenticated, "login gives a token")

    # search_dashboards: partial, case-insensitive, deleted ones hidden
    found = sdk.search_dashboards(title="%REVENUE%")
    ids = [d.id for d in found]
    check(all(isinstance(i, str) for i in ids), f"dashboard ids are strings: {ids}")
    check({"1", "2", "10", "11"} <= set(ids), f"revenue dashboards found: {ids}")
    check("3" not in ids, "the soft-deleted dashboard is hidden")
    exact = sdk.search_dashboards(title="revenue overview")
    check([d.title for d in exact] == ["Revenue Overview"], f"whole-title match: {[d.title for d in exact]}")
    deleted = sdk.search_dashboards(title="%revenue%", deleted="true")
    check([d.id for d in deleted] == ["3"], "deleted=true finds the archived dashboard")
    paged = sdk.search_dashboards(title="%revenue%", sorts="title", limit=2, offset=1, fields="id,title")
    check([d.title for d in paged] == ["Quarterly Revenue by Region", "Revenue Overview"], f"sorts/limit/offset: {[d.title for d in paged]}")

    # dashboard and its elements
    dashboard = sdk.dashboard("1")
    check(dashboard.title == "Revenue Overview" and dashboard.folder.name == "Finance", "dashboard 1")
    elements = sdk.dashboard_dashboard_elements("1")
    by_id = {e.id: e for e in elements}
    check(set(by_id) == {"101", "102", "103", "104", "105", "106", "107", "108"}, f"elements: {sorted(by_id)}")
    single = by_id["101"]
    check(single.result_maker.vis_config["type"] == "single_value", "101 is a single value")
    check(single.result_maker.vis_config["hidden_fields"] == ["orders.count"], "101 hides orders.count")
    check(single.query_id == "201" and single.query.fields[0] == "orders.count", "101's query")
    check(by_id["102"].look_id == "1" and by_id["102"].look.query.vis_config["x_axis_label"] == "Month", "look tile")
    check(by_id["107"].type == "text" and by_id["107"].title_text == "About these numbers", "text tile")
    lookml = sdk.dashboard("demo_model::kpi_overview")
    check(lookml.id == "demo_model::kpi_overview" and len(lookml.dashboard_elements) == 2, "LookML dashboard")
    merged = sdk.dashboard_element("116")
    check(merged.query is None and merged.merge_result_id and merged.result_maker.vis_config["type"] == "looker_column", "merged tile")

    # look and search_looks
    look = sdk.look("1")
    check(look.title == "Monthly Revenue" and look.query_id == "501" and look.query.model == "demo_model", "look 1")
    looks = sdk.search_looks(title="%revenue%")
    check({l.id for l in looks} == {"1", "2", "7"}, f"looks found: {[l.id for l in looks]}")

    # run_query json_detail: pivots with row totals, totals, nulls
    raw = sdk.run_query("212", "json_detail")
    check(isinstance(raw, str), "run_query returns text for application/json")
    result = json.loads(raw)
    check([f["name"] for f in result["fields"]["pivots"]] == ["orders.region"], "pivot field")
    keys = [p["key"] for p in result["pivots"]]
    check(keys[-1] == "$$$_row_total_$$$" and result["pivots"][-1]["is_total"], f"row total pivot: {keys}")
    first = result["data"][0]
    check(set(first["orders.total_revenue"]) == set(keys), "pivoted cells keyed by pivot key")
    check("totals_data" in result and result["has_totals"] and result["has_row_totals"], "totals")
    monthly = json.loads(sdk.run_query("501", "json_detail"))
    check(monthly["data"][0]["orders.created_month"]["value"] == "2026-06", "newest month first")
    check(monthly["data"][0]["orders.total_revenue"] == {"value": None}, "newest month is NULL")
    check(monthly["data"][1]["orders.total_revenue"]["rendered"].startswith("$"), "rendered with value_format")

    # create_query: a filtered copy of a tile's query returns a different number; dedup by params
    base = sdk.query("251")
    body = models.WriteQuery(model=base.model, view=base.view, fields=base.fields,
                             filters={**base.filters, "orders.region": "EMEA"}, limit="500")
    created = sdk.create_query(body)
    again = sdk.create_query(body)
    check(created.id == again.id and created.id not in ("251",), "create_query deduplicates")
    emea = json.loads(sdk.run_query(created.id, "json"))[0]["orders.total_revenue"]
    everyone = json.loads(sdk.run_query("251", "json"))[0]["orders.total_revenue"]
    check(0 < emea < everyone, f"EMEA {emea} < all {everyone}")

    # async query task on the slow dashboard: running, then complete, then cached
    slow = float(os.environ.get("FAKE_LOOKER_SLOW_QUERY_SECS", "45"))
    task = sdk.create_query_task(models.WriteCreateQueryTask(query_id="261", result_format=models.ResultFormat.json_detail), cache=True)
    check(isinstance(task.id, str) and task.status in ("added", "running"), f"task starts running: {task.status}")
    deadline = time.time() + slow + 30
    while sdk.query_task(task.id).status != "complete":
        check(time.time() < deadline, "task completes")
        time.sleep(0.1)
    data = json.loads(sdk.query_task_results(task.id))
    check(data["data"][0]["etl_jobs.total_rows_loaded"]["value"] > 0, "task results")
    hot = sdk.create_query_task(models.WriteCreateQueryTask(query_id="261", result_format=models.ResultFormat.json_detail), cache=True)
    check(sdk.query_task(hot.id).status == "complete", "a cached query completes at once")
    check(json.loads(sdk.query_task_results(hot.id))["from_cache"] is True, "served from cache")

    # errors: unknown ids are 404 SDKErrors with Looker's body
    try:
        sdk.dashboard("999999")
        check(False, "unknown dashboard raises")
    except sdk_error.SDKError as exc:
        check("Not found" in str(exc), f"404 message: {exc}")

    # logout, then the SDK logs in again on its own for the next call
    sdk.auth.logout()
    check(not sdk.auth.is_authenticated, "logged out")
    check(sdk.look("2").id == "2", "re-login after logout")
    sdk.auth.logout()

    # bad credentials: login answers 404
    os.environ["LOOKERSDK_CLIENT_SECRET"] = "wrong"
    bad = looker_sdk.init40()
    try:
        bad.me()
        check(False, "bad credentials raise")
    except sdk_error.SDKError:
        check(True, "bad credentials raise")

    print(f"sdk_check: {checks} checks passed")


if __name__ == "__main__":
    main()
