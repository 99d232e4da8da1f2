"""The Django app of docs/production.md, built from the page's own code blocks and driven with
Django's test client: staff access, rollout, a kill switch flipped on disk while threads keep
asking, a thumbs-down; then `workbench logs import` of the log it wrote imports every line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("django")

from workbench.services.production_export import export_production  # noqa: E402
from workbench.services.projects import create_project  # noqa: E402
from workbench.storage.project import Project  # noqa: E402
from workbench.testing.fake_anthropic import FakeAnthropicServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
DOCS = ROOT / "docs" / "production.md"
_BLOCK = re.compile(r"```python\n# ((?:assistant|mysite)/[\w/]+\.py)[^\n]*\n(.*?)```", re.S)

BASE_SETTINGS = """\
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
ROOT_URLCONF = "assistant.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
USE_TZ = True
"""

# Run inside the Django project (a subprocess: Django's settings are process-wide).
DRIVER = r"""
import json, os, sys, threading, time
import django
django.setup()
from django.core.management import call_command
from django.contrib.auth.models import User
from django.test import Client
from assistant.prompt_registry import rollout_bucket

call_command("migrate", verbosity=0)
staff = User.objects.create_user("staff", is_staff=True)
users = [User.objects.create_user(f"user{i}") for i in range(200)]
export = os.environ["EXPORT"]
out = {}

def ask(user, question="How do I install?"):
    client = Client()
    client.force_login(user)
    return client.post("/answer", {"question": question})

def edit(change):
    data = json.load(open(export, encoding="utf-8"))
    change(data["prompts"]["support-answer"])
    with open(export + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(export + ".tmp", export)
    time.sleep(float(os.environ["CHECK_EVERY"]) * 2 + 0.1)

reply = ask(staff)
out["staff"] = reply.status_code
call_id = reply.json()["call_id"]
out["others_before_rollout"] = sorted({ask(u).status_code for u in users[:20]})

def rollout(entry):
    entry["feature_flag"].update(staff_only=False, rollout_percent=25)
edit(rollout)
served = [u.pk for u in users if ask(u).status_code == 200]
expected = [u.pk for u in users if rollout_bucket("support-answer", u.pk) < 2500]
out["rollout"] = [len(served), served == expected]

client = Client()
client.force_login(users[0])
out["thumbs"] = client.post("/feedback", {"call_id": call_id, "feedback": "down"}).status_code

codes, lock, stop = [], threading.Lock(), threading.Event()
def hammer(user):
    while not stop.is_set():
        code = ask(user).status_code
        with lock:
            codes.append((time.monotonic(), code))
inside = [u for u in users if u.pk in served][:3]
workers = [threading.Thread(target=hammer, args=(u,)) for u in (staff, *inside)]
for w in workers:
    w.start()
time.sleep(0.3)
flipped = time.monotonic()
def kill(entry):
    entry["kill_switch"] = True
edit(kill)
time.sleep(0.3)
stop.set()
for w in workers:
    w.join()
late = {c for t, c in codes if t > flipped + float(os.environ["CHECK_EVERY"]) + 0.3}
out["before_kill"] = sorted({c for t, c in codes if t < flipped})
out["after_kill"] = sorted(late)
print(json.dumps(out))
"""


def _write_app(site: Path) -> None:
    blocks = dict(_BLOCK.findall(DOCS.read_text(encoding="utf-8")))
    assert set(blocks) == {
        "mysite/settings.py",
        "assistant/apps.py",
        "assistant/prompts.py",
        "assistant/views.py",
        "assistant/urls.py",
    }
    for name, code in blocks.items():
        target = site / name
        target.parent.mkdir(parents=True, exist_ok=True)
        (target.parent / "__init__.py").touch()
        text = BASE_SETTINGS + code if name == "mysite/settings.py" else code
        target.write_text(text, encoding="utf-8")
    settings = site / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text(encoding="utf-8") + "PROMPT_WORKBENCH_CHECK_EVERY_S = 0.3\n",
        encoding="utf-8",
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, Path, str]]:
    project = tmp_path / "q.pwb"
    create_project(project, bundle=SAMPLE)
    site = tmp_path / "site"
    _write_app(site)
    with Project.open(project, read_only=True) as opened:
        # The documented command: the prompts and the loader into the app package.
        export_production(
            opened, site / "assistant" / "prompts.json", skip_unlabelled=True, write_loader=True
        )
    with FakeAnthropicServer() as server:
        yield project, site, server.base_url


def _django(site: Path, base_url: str, code: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mysite.settings",
        "PYTHONPATH": str(site),
        "ANTHROPIC_API_KEY": "sk-ant-test-not-a-key",
        "ANTHROPIC_BASE_URL": base_url,
        "EXPORT": str(site / "assistant" / "prompts.json"),
        "CHECK_EVERY": "0.3",
    }
    env.pop("PROMPT_WORKBENCH_KILL", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=site, env=env, timeout=300
    )


def test_the_documented_django_app_end_to_end(site: tuple[Path, Path, str]) -> None:
    project, path, base_url = site
    done = _django(path, base_url, DRIVER)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["staff"] == 200
    assert out["others_before_rollout"] == [404]  # the default: staff only
    served, stable = out["rollout"]
    assert 30 <= served <= 70 and stable  # 25 % of 200, exactly the documented buckets
    assert out["thumbs"] == 200
    assert out["before_kill"] == [200]  # staff and the users in the rollout
    assert out["after_kill"] == [404]  # every thread, within the check interval, no restart

    log = path / "logs" / "llm-calls.jsonl"
    lines = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert any(line.get("type") == "feedback" for line in lines)
    assert all(isinstance(line.get("user_id", ""), str) for line in lines)  # int pk as text
    imported = subprocess.run(
        [sys.executable, "-m", "workbench", "logs", "import", str(project), str(log), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    report = json.loads(imported.stdout)
    assert report["errors"] == [] and report["skipped"] == 0
    assert report["imported"] == len(lines)  # every line
    assert report["feedback"] == 1 and report["unlinked"] == 0


def test_a_bad_export_is_one_clear_error_at_start_up(site: tuple[Path, Path, str]) -> None:
    _project, path, base_url = site
    export = path / "assistant" / "prompts.json"
    data = json.loads(export.read_text(encoding="utf-8"))
    data["prompts"]["support-answer"]["feature_flag"]["rollout_percent"] = "half"
    export.write_text(json.dumps(data), encoding="utf-8")
    done = _django(path, base_url, "import django; django.setup()")
    assert done.returncode == 1
    assert done.stderr.count("Traceback") == 1
    assert "During handling" not in done.stderr and "above exception" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("assistant.prompt_registry.RegistryError: ")
    assert str(export) in last
    assert "'prompts.support-answer.feature_flag.rollout_percent' must be a number" in last
