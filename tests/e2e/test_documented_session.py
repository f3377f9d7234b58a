"""docs/gateway.md's "A first session over HTTP", run as a reader pastes it.

The doc's blocks marked ```` ```sh session ```` are joined, in order, into one bash script
(`set -euo pipefail`: the doc's `api` makes an HTTP error fail its command) and run against
a platform started with `plpbk run` on a scratch folder. Every `# -> ...` comment in them is
a claim about the answer just before it, checked here:

    # -> 201, Location: .../villages/52.01.08.2006, {"code": "52.01.08.2006"}
    # -> {..., "stage": 2, ...}; prose after a semicolon is not checked
    # -> "status": "signed_off"
    # -> verified: ... events proven        (text, for a command that prints no JSON)

A status and a Location are those of the last HTTP answer; JSON is matched against the last
line of JSON printed (its other fields may be anything; `...`, `[...]` and `{...}` stand
for any value, `[]` for an empty list, `[x, ...]` for a list that starts with x); text is
matched against everything printed, with `...` for anything. A change of an endpoint, a field or a status the session uses, without
the doc changing with it, fails here.
"""
import json
import os
import re
import shutil
import stat
import subprocess

from .running import BIN, REPO

DOC = os.path.join(REPO, "docs", "gateway.md")
MARKER = "@@claim"
ANY = "\0any"          # what `...` in a claim stands for
MORE = "\0more"        # `, ...]`: a list's other items
# the reader's curl, the headers of every answer appended to a log for the status claims
CURL = """#!/bin/bash
"{real}" -D "$SESSION_HEADERS.one" "$@"; status=$?
cat "$SESSION_HEADERS.one" >> "$SESSION_HEADERS" 2>/dev/null; rm -f "$SESSION_HEADERS.one"
exit $status
"""


def session_blocks(markdown):
    return re.findall(r"^```sh session\n(.*?)^```", markdown, re.M | re.S)


def with_markers(script):
    """The script with a marker printed after each claim, and the claims in order."""
    lines, claims, claim = [], [], None
    for line in script.splitlines():
        if claim is not None and re.match(r"\s*#\s{2,}\S", line):   # the claim goes on
            claim += " " + line.strip().lstrip("#").strip()
            lines.append(line)
            continue
        if claim is not None:
            lines.append(mark(len(claims)))
            claims.append(claim)
            claim = None
        lines.append(line)
        found = re.search(r"(?:^|\s)# -> (.*)", line)
        if found:
            claim = found.group(1).strip()
    if claim is not None:
        lines.append(mark(len(claims)))
        claims.append(claim)
    return "\n".join(lines) + "\n", claims


def mark(number):
    return f"printf '\\n{MARKER} %d\\n' {number} | tee -a \"$SESSION_HEADERS\""


def by_claim(text):
    """What came before each marker: {claim number: text}."""
    parts = re.split(rf"^{MARKER} (\d+)$", text, flags=re.M)
    return {int(number): before for before, number in zip(parts[::2], parts[1::2])}


def tail(text, lines):
    return "\n".join(line[:400] for line in text.splitlines()[-lines:])


def check(claim, output, headers):
    rest = claim
    status = re.match(r"(\d{3})\b,?\s*", rest)
    if status:
        rest = rest[status.end():]
        answered = re.findall(r"^HTTP/\S+ (\d{3})", headers, re.M)
        assert answered and answered[-1] == status.group(1), (claim, answered)
    location = re.match(r"Location: (\S+?)(?:,\s*|\s*$)", rest)
    if location:
        rest = rest[location.end():]
        given = re.findall(r"^location: *(\S+)", headers, re.M | re.I)
        assert given and re.fullmatch(wildcards(location.group(1)), given[-1]), (claim, given)
    if rest.startswith(("{", "[", '"')):
        answer = last_json(output)
        assert matches(json_pattern(rest), answer), f"claimed {claim}\nanswered {answer}"
    elif rest:
        assert re.search(wildcards(rest), " ".join(output.split())), (claim, output)


def wildcards(text):
    return ".*?".join(re.escape(piece) for piece in text.split("..."))


def last_json(output):
    for line in reversed(output.splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def json_pattern(text):
    """The claim's JSON, up to where prose takes over, with ... made ANY."""
    if text.startswith(("{", "[")):
        depth = 0
        for end, char in enumerate(text):
            depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(char, 0)
            if depth == 0:
                break
        text = text[:end + 1]
    else:                                       # "field": value, ... without braces
        text = "{" + text.split(";")[0] + "}"
    for written in ('"..."', "[...]", "{...}"):
        text = text.replace(written, json.dumps(ANY))
    text = re.sub(r",\s*\.\.\.\s*\]", lambda _: f", {json.dumps(MORE)}]", text)
    text = re.sub(r"\.\.\.\s*,\s*|,\s*\.\.\.", "", text)   # other fields: any
    return json.loads(text)


def matches(pattern, answer):
    if pattern == ANY:
        return True
    if isinstance(pattern, dict):
        return isinstance(answer, dict) and all(
            key in answer and matches(value, answer[key]) for key, value in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(answer, list):
            return False
        if pattern[-1:] == [MORE]:          # these first, then any others
            pattern, answer = pattern[:-1], answer[:len(pattern) - 1]
        return len(pattern) == len(answer) and all(
            matches(p, a) for p, a in zip(pattern, answer))
    return type(pattern) is type(answer) and pattern == answer


def test_the_claim_reader_reads_the_forms_the_doc_uses():
    script, claims = with_markers('api x   # -> "status": "signed_off"\n'
                                  "# -> {..., \"stage\": 4,\n#     \"a\": [...]}; prose\necho")
    assert claims == ['"status": "signed_off"', '{..., "stage": 4, "a": [...]}; prose']
    assert script.count(MARKER) == 2 and script.endswith("echo\n")
    assert json_pattern(claims[1]) == {"stage": 4, "a": ANY}
    assert matches({"stage": 4, "a": ANY}, {"stage": 4, "a": [1], "b": 0})
    assert not matches({"stage": 4}, {"stage": "4"})
    assert not matches({"p": []}, {"p": [1]})
    assert json_pattern('[{"a": 1, ...}, ...]') == [{"a": 1}, MORE]
    assert matches([{"a": 1}, MORE], [{"a": 1, "b": 2}, {"a": 3}])
    assert not matches([{"a": 1}, MORE], [{"a": 3}, {"a": 1}])
    assert not matches([{"a": 1}, MORE], [])


def test_the_first_session_of_the_gateway_doc_runs_as_written(platform):
    with open(DOC) as handle:
        blocks = session_blocks(handle.read())
    session = "\n".join(blocks)
    assert "plpbk users create" in blocks[0] and "verify-bundle" in blocks[-1], (
        "the blocks marked `sh session` no longer start with the users and end with the "
        "bundle's verification")
    script, claims = with_markers(session)

    # the reader's folder: the repository's as far as the doc reads it (var/keys)
    folder = os.path.join(platform.folder, "reader")
    os.makedirs(os.path.join(folder, "var", "keys"))
    shutil.copy(platform.tree_head_key + ".pub",
                os.path.join(folder, "var", "keys", "tree-head.pem.pub"))
    tools = os.path.join(folder, ".tools")
    os.makedirs(tools)
    with open(os.path.join(tools, "curl"), "w") as handle:
        handle.write(CURL.format(real=shutil.which("curl")))
    os.chmod(os.path.join(tools, "curl"), stat.S_IRWXU)
    headers = os.path.join(folder, ".headers")
    with open(os.path.join(folder, ".session.sh"), "w") as handle:
        handle.write("set -euo pipefail -x\n" + script)

    env = dict(platform.env, SESSION_HEADERS=headers,
               PATH=os.pathsep.join([tools, BIN, os.environ["PATH"]]))
    done = subprocess.run(["bash", ".session.sh"], cwd=folder, env=env, text=True,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=180)
    for name, text in [(".session.out", done.stdout), (".session.trace", done.stderr)]:
        with open(os.path.join(folder, name), "w") as handle:   # kept with PLPBK_KEEP_E2E=1
            handle.write(text)
    assert done.returncode == 0, (f"the session stopped (exit {done.returncode}) at the "
                                  f"last command traced:\n{tail(done.stderr, 12)}\n"
                                  f"its output:\n{tail(done.stdout, 2)}")

    outputs = by_claim(done.stdout)
    with open(headers) as handle:
        answers = by_claim(handle.read())
    assert sorted(outputs) == list(range(len(claims))), (claims, sorted(outputs))
    for number, claim in enumerate(claims):
        check(claim, outputs[number], answers.get(number, ""))
