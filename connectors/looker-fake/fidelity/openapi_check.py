#!/usr/bin/env python3
"""Validates the fake Looker's responses against the OpenAPI spec in this crate.

For each operation of spec/Looker.4.0.subset.oas.json it makes real requests (success and
error cases) and checks that the status is declared for the operation, that the content type is
declared, and that JSON bodies match the declared schema (types, required properties, nullable).

Environment: FAKE_LOOKER_BASE_URL, FAKE_LOOKER_CLIENT_ID, FAKE_LOOKER_CLIENT_SECRET.
Run by tests/fidelity.rs; exits non-zero on the first violation.
"""

import copy
import json
import os
import sys
import time

try:
    import jsonschema
    import requests
except ImportError as exc:
    print(f"{exc}; run: pip install -r connectors/looker-fake/fidelity/requirements.txt", file=sys.stderr)
    sys.exit(3)

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_PATH = os.path.join(HERE, "..", "spec", "Looker.4.0.subset.oas.json")
BASE = os.environ["FAKE_LOOKER_BASE_URL"]
API = BASE + "/api/4.0"

# OpenAPI 3.0 ignores siblings of `$ref`, so the subset lost the nullability of object-valued
# properties. The Swagger 2.0 form of the same spec marks every one of them
# `x-looker-nullable: true` except these (checked against Looker.4.0.json).
NON_NULLABLE_REFS = {("ApiVersion", "current_version"), ("JsonBi", "metadata"), ("JsonBiMetadata", "fields")}


def to_json_schema(node, owner=None):
    """OpenAPI 3.0 schema → JSON Schema (draft 7): nullable, $ref, `type: any`."""
    if isinstance(node, list):
        return [to_json_schema(n, owner) for n in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if node.get("type") == "any":
        node.pop("type")
        node.pop("format", None)
    nullable = node.pop("nullable", False)
    for key in ("readOnly", "writeOnly", "example", "x-looker-status", "x-looker-nullable", "x-looker-deprecated"):
        node.pop(key, None)
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
    out = {}
    for key, value in node.items():
        if key == "properties":
            props = {}
            for name, prop in value.items():
                converted = to_json_schema(prop, owner)
                if "$ref" in prop and (owner, name) not in NON_NULLABLE_REFS:
                    converted = {"anyOf": [converted, {"type": "null"}]}
                props[name] = converted
            out[key] = props
        else:
            out[key] = to_json_schema(value, owner)
    if nullable and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"] + ["null"]
    return out


SPEC = json.load(open(SPEC_PATH))
DEFINITIONS = {name: to_json_schema(schema, name) for name, schema in SPEC["components"]["schemas"].items()}
validated = []


def schema_for(operation_schema):
    schema = to_json_schema(operation_schema)
    schema = copy.deepcopy(schema)
    schema["definitions"] = DEFINITIONS
    return schema


def validate(template, method, response):
    op = SPEC["paths"][template][method]
    status = str(response.status_code)
    where = f"{method.upper()} {template} → {status}"
    declared = op["responses"]
    # 401 is what Looker sends for a missing or expired token, but the spec declares it nowhere.
    assert status in declared or status == "401", f"{where}: status not declared ({sorted(declared)})"
    if status == "401" or not declared.get(status, {}).get("content"):
        validated.append(where)
        return
    if status == "204":
        # No content: the declared `string` body of logout is empty on the wire.
        assert response.content == b"", f"{where}: a 204 has no body"
        validated.append(where)
        return
    content = declared[status]["content"]
    ctype = response.headers.get("content-type", "").split(";")[0].strip()
    assert ctype in content or ("text" in content and ctype.startswith("text/")), f"{where}: content type {ctype!r} not in {list(content)}"
    schema = content.get(ctype, content.get("application/json", {})).get("schema", {})
    if schema.get("type") == "string":
        # run_* and query_task_results declare `string`: the body is the text of the result.
        assert isinstance(response.text, str)
        if ctype == "application/json":
            json.loads(response.text)
    else:
        body = response.json()
        errors = sorted(jsonschema.Draft7Validator(schema_for(schema)).iter_errors(body), key=lambda e: list(e.path))
        assert not errors, f"{where}: {len(errors)} schema violations, first: {list(errors[0].path)}: {errors[0].message}"
    validated.append(where)


def main():
    # The validator itself must reject wrong shapes, or this whole check proves nothing.
    bad = {"id": 1, "title": "x", "deleted": None}
    assert list(jsonschema.Draft7Validator(schema_for({"$ref": "#/components/schemas/Dashboard"})).iter_errors(bad)), "self-test"
    assert list(jsonschema.Draft7Validator(schema_for({"$ref": "#/components/schemas/Error"})).iter_errors({"message": "x"})), "self-test"
    nested = {"id": "1", "dashboard_elements": [{"id": "2", "query": {"model": "m", "view": "v", "limit": 5}}]}
    assert list(jsonschema.Draft7Validator(schema_for({"$ref": "#/components/schemas/Dashboard"})).iter_errors(nested)), "self-test"
    assert not list(jsonschema.Draft7Validator(schema_for({"$ref": "#/components/schemas/DashboardElement"})).iter_errors({"id": "2", "look": None})), "self-test"

    s = requests.Session()
    client = {"client_id": os.environ["FAKE_LOOKER_CLIENT_ID"], "client_secret": os.environ["FAKE_LOOKER_CLIENT_SECRET"]}
    r = s.post(API + "/login", data=client)
    validate("/login", "post", r)
    token = r.json()["access_token"]
    validate("/login", "post", s.post(API + "/login", data={"client_id": "nope", "client_secret": "nope"}))
    validate("/login", "post", s.post(API + "/login", params=client))
    s.headers["Authorization"] = "token " + token

    def get(template, path=None, **params):
        r = s.get(API + (path or template), params=params)
        validate(template, "get", r)
        return r

    get("/versions")
    get("/user")
    get("/dashboards")
    get("/dashboards/search", title="%revenue%")
    get("/dashboards/search", title="%revenue%", deleted="true", fields="id,title,deleted")
    get("/dashboards/search", limit="abc")
    for d in ["1", "2", "4", "5", "6", "7", "8", "demo_model::kpi_overview", "3"]:
        get("/dashboards/{dashboard_id}", f"/dashboards/{d}")
        get("/dashboards/{dashboard_id}/dashboard_elements", f"/dashboards/{d}/dashboard_elements")
    get("/dashboards/{dashboard_id}", "/dashboards/nope")
    get("/dashboards/{dashboard_id}/dashboard_elements", "/dashboards/nope/dashboard_elements")
    for e in ["101", "102", "107", "108", "116", "151"]:
        get("/dashboard_elements/{dashboard_element_id}", f"/dashboard_elements/{e}")
    get("/dashboard_elements/{dashboard_element_id}", "/dashboard_elements/0")
    get("/dashboard_elements/search", dashboard_id="2")
    get("/looks")
    get("/looks/search", title="%revenue%")
    get("/looks/search", deleted="maybe")
    for l in ["1", "3", "5"]:
        get("/looks/{look_id}", f"/looks/{l}")
    get("/looks/{look_id}", "/looks/404")
    get("/looks/{look_id}/run/{result_format}", "/looks/1/run/json_detail")
    get("/looks/{look_id}/run/{result_format}", "/looks/1/run/csv")
    get("/queries/{query_id}", "/queries/212")
    get("/queries/{query_id}", "/queries/nope")
    get("/queries/{query_id}/run/{result_format}", "/queries/212/run/json_detail", cache="true")
    get("/queries/{query_id}/run/{result_format}", "/queries/218/run/json")
    get("/queries/{query_id}/run/{result_format}", "/queries/212/run/png")
    get("/queries/{query_id}/run/{result_format}", "/queries/nope/run/json")

    query = {"model": "demo_model", "view": "orders", "fields": ["orders.region", "orders.count"], "limit": "10"}
    r = s.post(API + "/queries", json=query)
    validate("/queries", "post", r)
    query_id = r.json()["id"]
    validate("/queries", "post", s.post(API + "/queries", json={"view": "orders"}))
    validate("/queries", "post", s.post(API + "/queries", data="{not json", headers={"Content-Type": "application/json"}))
    validate("/queries/run/{result_format}", "post", s.post(API + "/queries/run/json_detail", json=query))
    validate("/queries/run/{result_format}", "post", s.post(API + "/queries/run/json", json={"model": "demo_model", "view": "nope"}))

    r = s.post(API + "/query_tasks", json={"query_id": "262", "result_format": "json_detail"}, params={"cache": "true"})
    validate("/query_tasks", "post", r)
    slow_task = r.json()["id"]
    validate("/query_tasks/{query_task_id}/results", "get", s.get(f"{API}/query_tasks/{slow_task}/results"))
    r = s.post(API + "/query_tasks", json={"query_id": query_id, "result_format": "json_detail"})
    validate("/query_tasks", "post", r)
    task = r.json()["id"]
    validate("/query_tasks", "post", s.post(API + "/query_tasks", json={"query_id": "nope", "result_format": "json"}))
    validate("/query_tasks", "post", s.post(API + "/query_tasks", json={"result_format": "json"}))
    deadline = time.time() + 60
    while True:
        r = get("/query_tasks/{query_task_id}", f"/query_tasks/{task}")
        if r.json()["status"] == "complete":
            break
        assert time.time() < deadline, "task completes"
        time.sleep(0.05)
    get("/query_tasks/{query_task_id}/results", f"/query_tasks/{task}/results")
    get("/query_tasks/{query_task_id}", "/query_tasks/nope")
    get("/query_tasks/{query_task_id}/results", "/query_tasks/nope/results")
    get("/query_tasks/multi_results", query_task_ids=f"{task},{slow_task},nope")

    # 429 from fault injection is a declared response with an Error body.
    requests.post(BASE + "/control/faults", json={"route": "look", "kind": "rate_limit", "retry_after_secs": 1, "count": 1})
    r = get("/looks/{look_id}", "/looks/1")
    assert r.status_code == 429 and r.headers.get("retry-after") == "1", "429 fault"

    validate("/logout", "delete", s.delete(API + "/logout"))
    r = get("/dashboards/search")
    assert r.status_code == 401, "logged-out token"
    operations = {w.split(" → ")[0] for w in validated}
    declared = {f"{m.upper()} {p}" for p, ops in SPEC["paths"].items() for m in ops}
    missing = declared - operations
    assert not missing, f"operations never exercised: {sorted(missing)}"
    print(f"openapi_check: {len(validated)} responses valid across {len(operations)} operations")


if __name__ == "__main__":
    main()
