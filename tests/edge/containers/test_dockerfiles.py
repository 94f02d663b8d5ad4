"""The edge Dockerfiles keep their properties (Docker cannot build here, so they are parsed with dockerfile-parse).

Multi-stage, slim Python base, non-root user, nothing but the virtualenv copied into the final
stage, no build tools or pip there, HEALTHCHECK on /healthz at the port the program really
serves, requirements-edge.txt first and the package with --no-deps.
"""

from __future__ import annotations

import inspect
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[3]
BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "clang", "cmake", "git", "curl", "wget")


def ops_port(name: str) -> int:
    if name == "collector":
        from edge.collector.cli import collect
        return inspect.signature(collect).parameters["ops_port"].default
    from edge.bot.settings import BotSettings
    return BotSettings().ops_port


def structure(path: Path) -> list[dict]:
    with open(path, "rb") as f:
        return DockerfileParser(fileobj=f).structure


def stages(path: Path) -> list[list[dict]]:
    out: list[list[dict]] = []
    for ins in structure(path):
        if ins["instruction"] == "FROM":
            out.append([])
        if out:
            out[-1].append(ins)
    return out


def args(path: Path) -> dict[str, str]:
    found = {}
    for ins in structure(path):
        if ins["instruction"] == "ARG" and "=" in ins["value"]:
            k, v = ins["value"].split("=", 1)
            found[k.strip()] = v.strip()
        if ins["instruction"] == "FROM":
            break
    return found


def base_image(from_value: str, arg_values: dict[str, str]) -> str:
    image = from_value.split()[0]
    return re.sub(r"\$\{?(\w+)\}?", lambda m: arg_values.get(m.group(1), m.group(0)), image)


@pytest.fixture(params=["collector", "bot"])
def dockerfile(request) -> tuple[str, Path]:
    return request.param, REPO / "edge" / f"Dockerfile.{request.param}"


def test_multi_stage_on_slim_python(dockerfile):
    _, path = dockerfile
    st = stages(path)
    assert len(st) >= 2
    a = args(path)
    for s in st:
        image = base_image(s[0]["value"], a)
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?(@sha256:[0-9a-f]{64})?", image), image
    assert " AS " in st[0][0]["value"].upper()


def test_final_stage_runs_as_non_root(dockerfile):
    final = stages(dockerfile[1])[-1]
    users = [i["value"].strip() for i in final if i["instruction"] == "USER"]
    assert users, "final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "use a numeric non-zero uid so runAsNonRoot can verify it"
    last_user_line = max(i["startline"] for i in final if i["instruction"] == "USER")
    assert all(i["startline"] < last_user_line for i in final if i["instruction"] in ("RUN", "COPY"))


def test_final_stage_has_no_build_tools_and_no_sources(dockerfile):
    final = stages(dockerfile[1])[-1]
    for ins in final:
        if ins["instruction"] == "RUN":
            words = set(re.split(r"[\s;&|]+", ins["value"]))
            assert not words & set(BUILD_TOOLS), ins["value"]
            assert "pip" not in ins["value"] and "apt-get" not in ins["value"], ins["value"]
        if ins["instruction"] in ("COPY", "ADD"):
            assert ins["instruction"] == "COPY" and "--from=build" in ins["value"], ins["value"]
    build = stages(dockerfile[1])[0]
    assert any("pip uninstall -y pip" in i["value"] for i in build if i["instruction"] == "RUN")


def test_requirements_first_then_the_package_without_deps(dockerfile):
    runs = [i["value"] for i in stages(dockerfile[1])[0] if i["instruction"] == "RUN"]
    req = next(n for n, r in enumerate(runs) if "-r /src/requirements-edge.txt" in r)
    pkg = next(n for n, r in enumerate(runs) if "--no-deps /src" in r)
    assert req < pkg and "--only-binary=:all:" in runs[req]


def test_healthcheck_probes_healthz_on_the_served_port(dockerfile):
    name, path = dockerfile
    final = stages(path)[-1]
    [hc] = [i["value"] for i in final if i["instruction"] == "HEALTHCHECK"]
    port = ops_port(name)
    assert f"127.0.0.1:{port}/healthz" in hc and "CMD" in hc
    assert [i["value"] for i in final if i["instruction"] == "EXPOSE"] == [str(port)]


def test_entrypoint_is_exec_form_and_bot_is_paused(dockerfile):
    name, path = dockerfile
    final = stages(path)[-1]
    [ep] = [i["value"] for i in final if i["instruction"] == "ENTRYPOINT"]
    assert ep.startswith("[")
    env = " ".join(i["value"] for i in final if i["instruction"] == "ENV")
    if name == "bot":
        assert "SPYGLASS_BOT_MODE=off" in env
        assert "LIVE_CONFIRM" not in path.read_text()


def test_copied_sources_exist_and_pass_the_dockerignore(dockerfile):
    allowed = {line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.startswith("!")}
    for ins in stages(dockerfile[1])[0]:
        if ins["instruction"] == "COPY":
            *sources, _ = shlex.split(ins["value"])
            for src in sources:
                assert (REPO / src).exists(), src
                assert src.rstrip("/") in allowed, f"{src} is excluded by .dockerignore"


def test_images_build_from_spyglass_and_edge_only(dockerfile):
    copied = set()
    for ins in stages(dockerfile[1])[0]:
        if ins["instruction"] == "COPY":
            *sources, _ = shlex.split(ins["value"])
            copied |= {src.rstrip("/") for src in sources}
    assert copied == {"requirements-edge.txt", "pyproject.toml", "README.md", "spyglass", "edge"}
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    assert "!functions/" not in ignore and "!devstack/" not in ignore


# The repository's other packages made unimportable, as they are in the images.
_ABSENT = """
import json, runpy, sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("functions", "function_app", "devstack"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Absent())
"""


def run_without_adapters(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _ABSENT + code], capture_output=True, text=True, timeout=120,
                          cwd=REPO)


def test_the_collector_image_runs_its_entrypoint_without_the_functions_app():
    [ep] = [i["value"] for i in stages(REPO / "edge" / "Dockerfile.collector")[-1] if i["instruction"] == "ENTRYPOINT"]
    python, flag, module = json.loads(ep)
    assert (python, flag, module) == ("python", "-m", "edge.collector")
    run = run_without_adapters(f"import edge.bot.runner, edge.collector.publisher\n"
                               f"sys.argv = ['{module}', '--help']\nrunpy.run_module('{module}', run_name='__main__')")
    assert run.returncode == 0, run.stderr
    assert "--source" in run.stdout and "--queue" in run.stdout


def test_the_spyglass_command_skips_an_adapter_that_is_not_installed():
    run = run_without_adapters("from spyglass.cli import app\napp(['--help'])")
    assert run.returncode == 0, run.stderr
    commands = set(re.findall(r"^│ (\w+) ", run.stdout, re.M))
    assert {"score", "collect"} <= commands and "poison" not in commands


def test_dockerignore_is_an_allow_list_keeping_secrets_out():
    lines = [x.strip() for x in (REPO / ".dockerignore").read_text().splitlines() if x.strip()
             and not x.startswith("#")]
    assert lines[0] == "*"
    for never in (".venv", "node_modules", "tests", "local.settings.json", ".git", "infra"):
        assert f"!{never}" not in lines and f"!{never}/" not in lines
