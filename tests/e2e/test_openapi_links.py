"""The document's links lead somewhere: each names an operation and parameters that exist, and
followed as a client (or schemathesis' stateful phase) follows them — register, log in, open a
collect, donate to it, read it back — they make a working sequence of real requests."""

from __future__ import annotations

import re
from typing import Any

from attrs import frozen
from litestar.testing import TestClient

from tests.e2e.conftest import PASSWORD, transaction_id

_EMBEDDED = re.compile(r"\{(\$[^}]+)\}")


@frozen
class Sent:
    """A request as made and its answer: what a link's runtime expressions read."""

    path_params: dict[str, Any]
    headers: dict[str, str]
    body: Any
    answer: Any


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Every operation by its id: method, path and definition."""
    return {
        operation["operationId"]: (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def _evaluate(expression: Any, sent: Sent) -> Any:
    """A link's runtime expression (or a value embedding some in braces), read from `sent`."""
    if not isinstance(expression, str):
        return expression
    if _EMBEDDED.search(expression):
        return _EMBEDDED.sub(lambda found: str(_evaluate(found.group(1), sent)), expression)
    source, _, pointer = expression.partition("#")
    if source == "$response.body":
        return _pointed(sent.answer.json(), pointer)
    if source == "$request.body":
        return _pointed(sent.body, pointer)
    if source.startswith("$request.path."):
        return sent.path_params[source.removeprefix("$request.path.")]
    if source.startswith("$request.header."):
        return sent.headers[source.removeprefix("$request.header.")]
    raise AssertionError(f"not a runtime expression: {expression}")


def _pointed(document: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        document = document[int(part) if isinstance(document, list) else part]
    return document


def test_every_link_names_an_operation_and_its_parameters(client: TestClient[Any]) -> None:
    document = client.get("/docs/openapi.json").json()
    operations = _operations(document)
    links = [
        (source, name, link)
        for source, (_, _, operation) in operations.items()
        for response in operation["responses"].values()
        for name, link in response.get("links", {}).items()
    ]
    assert len(links) >= 15, links
    for source, name, link in links:
        assert link["operationId"] in operations, (source, name)
        _, path, target = operations[link["operationId"]]
        declared = {f"{p['in']}.{p['name']}" for p in target.get("parameters", [])}
        for parameter in link.get("parameters", {}):
            where = parameter if "." in parameter else f"path.{parameter}"
            assert where in declared or where == "header.Authorization", (source, name, where)
        needed = set(re.findall(r"{([^}]+)}", path))
        assert needed <= set(link.get("parameters", {})), (source, name, needed)
        if "requestBody" in link:
            assert "requestBody" in target, (source, name)


def test_following_the_links_registers_logs_in_opens_a_collect_donates_and_reads_it(
    client: TestClient[Any],
) -> None:
    operations = _operations(client.get("/docs/openapi.json").json())

    def call(
        operation_id: str, *, path: dict[str, Any], headers: dict[str, str], body: Any
    ) -> Sent:
        method, template, _ = operations[operation_id]
        url = template.format(**path)
        answer = client.request(method.upper(), url, json=body, headers=headers)
        return Sent(path, headers, body, answer)

    def follow(sent: Sent, name: str, **generated: Any) -> Sent:
        """The link `name` of `sent`'s answer, with `generated` as the rest of the body."""
        (status,) = [code for code in ("200", "201") if str(sent.answer.status_code) == code]
        _, _, operation = _source(operations, sent)
        link = operation["responses"][status]["links"][name]
        values = {key: _evaluate(value, sent) for key, value in link.get("parameters", {}).items()}
        headers = {
            k.removeprefix("header."): v for k, v in values.items() if k.startswith("header.")
        }
        path = {k: v for k, v in values.items() if not k.startswith("header.")}
        body = {**generated, **_evaluate_body(link.get("requestBody"), sent)} or None
        return call(link["operationId"], path=path, headers=headers, body=body)

    account = {"username": "linked", "email": "linked@example.com", "password": PASSWORD}
    registered = call("registerUser", path={}, headers={}, body=account)
    assert registered.answer.status_code == 201, registered.answer.text
    tokens = follow(registered, "LogIn")
    assert tokens.answer.status_code == 200, tokens.answer.text
    me = follow(tokens, "GetMe")
    assert me.answer.json()["username"] == "linked"
    collect = follow(tokens, "CreateCollect", title="Подарок по ссылкам", goal_amount="1000")
    assert collect.answer.status_code == 201, collect.answer.text
    paid = follow(collect, "Donate", amount="150.00", transaction_id=transaction_id())
    assert paid.answer.status_code == 201, paid.answer.text
    read = follow(paid, "GetCollect")
    assert read.answer.status_code == 200, read.answer.text
    assert (read.answer.json()["collected_amount"], read.answer.json()["donors_count"]) == (
        "150.00",
        1,
    )
    payment = follow(paid, "GetPayment")
    assert payment.answer.json()["id"] == paid.answer.json()["id"]


def _source(
    operations: dict[str, tuple[str, str, dict[str, Any]]], sent: Sent
) -> tuple[str, str, dict[str, Any]]:
    """The operation `sent` was made to, told by its request (method and path)."""
    request = sent.answer.request
    for method, template, operation in operations.values():
        pattern = "^" + re.sub(r"{[^}]+}", "[^/]+", template) + "/?$"
        if request.method.lower() == method and re.match(pattern, request.url.path):
            return method, template, operation
    raise AssertionError(f"no operation for {request.method} {request.url.path}")


def _evaluate_body(body: Any, sent: Sent) -> dict[str, Any]:
    if body is None:
        return {}
    assert isinstance(body, dict), body
    return {key: _evaluate(value, sent) for key, value in body.items()}
