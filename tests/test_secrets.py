"""Secrets are never indexed: by name (keys, certificates, keystores, env and credential files,
password stores) and by content (private key blocks and the token formats of gitleaks and
detect-secrets, also inside a PDF); placeholders and published examples are not secrets; the
shared documents and dev sets hold none (no false positive); the lists extend in config.toml."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from assistant.settings import SettingsError, load_settings
from ingest import sync
from ingest.formats import UnreadableFileError, parse
from ingest.secret_rules import CONTENT_RULES, SecretRules

from corpus import DATA, english, write_files
from secret_samples import pdf_with_lines, pem, tokens

RULES = SecretRules()

SECRET_NAMES = [
    # The names issue 20 found indexed, then one of each class the rules name.
    "id_rsa", "id_ed25519", "server.key", "cert.pem", "credentials", "kubeconfig", "prod.env",
    "secrets.json", "id_ecdsa.pub", "id_ed25519_sk", "ssh_host_rsa_key", "authorized_keys", "store.p12",
    "client.pfx", "AuthKey_ABC123.p8", "release.keystore", "truststore.jks", "cert.CRT", "ca.cer",
    "key.ppk", "backup.gpg", "secring.gpg", ".env", ".env.production", "staging.env",
    "settings.env.local", "aws_credentials", "gcp-credentials.json", "credentials.csv",
    "application_default_credentials.json", "client_secret_1234.apps.googleusercontent.com.json",
    "service-account-prod.json", ".netrc", "_netrc", ".pgpass", ".git-credentials", ".npmrc",
    ".pypirc", "terraform.tfstate", "terraform.tfstate.backup", "prod.kubeconfig", "kubeconfig.yaml",
    "Passwords.kdbx", "vault.1pux", "bitwarden_export_20240101.json", "Chrome Passwords.csv",
    "logins.csv", "secrets.yaml", "secrets.toml", "app-secrets.json", "SECRETS.YML", ".htpasswd",
]  # fmt: skip
DOCUMENT_NAMES = [
    "notes.md", "Secrets.md", "secrets-of-the-sea.txt", "The Secret Garden.epub", "keyboard.txt",
    "monkey.md", "id_card.md", "identity.txt", "environment.md", "credentials-guide.md",
    "password-policy.md", "keynote.pdf", "pem-format.md", "certificate-howto.html", "key-points.docx",
    "README", "config.json", "settings.yaml", "kube-notes.md",
]  # fmt: skip


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_files_are_known_by_their_name(name: str) -> None:
    reason = RULES.name_reason(name)
    assert reason and "secrets are never indexed" in reason, name


@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_documents_with_look_alike_names_are_not_secrets(name: str) -> None:
    assert RULES.name_reason(name) is None


def test_every_content_rule_has_a_sample_it_catches_in_prose() -> None:
    samples = tokens()
    assert set(samples) == {rule.id for rule in CONTENT_RULES}
    for rule_id, token in samples.items():
        text = f"Deployment notes for the team.\nThe value is {token} (rotate it monthly).\n"
        reason = RULES.content_reason(text)
        assert reason is not None and f"({rule_id})" in reason, (rule_id, reason)


@pytest.mark.parametrize(
    "kind",
    [
        "RSA PRIVATE KEY",
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ],
)
def test_private_key_blocks_of_every_kind(kind: str) -> None:
    assert "(private-key)" in (RULES.content_reason("key:\n" + pem(kind)) or "")


def test_a_key_inside_json_with_escaped_newlines_is_caught() -> None:
    # A Google service-account key file: the PEM block sits in a JSON string.
    block = pem("PRIVATE KEY").replace("\n", "\\n")
    text = '{"type": "service_account", "project_id": "p", "private_key": "' + block + '"}'
    assert "(private-key)" in (RULES.content_reason(text) or "")


@pytest.mark.parametrize(
    "text",
    [
        # AWS's own published examples (gitleaks' allowlist), placeholders and elided keys.
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "STRIPE_KEY=sk_live_XXXXXXXXXXXXXXXXXXXXXXXX",
        "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
        "Paste the key that starts with -----BEGIN OPENSSH PRIVATE KEY----- into the box.",
        "SLACK_BOT_TOKEN=xoxb-your-bot-token",
        "The JWT header is eyJhbGciOiJIUzI1NiJ9 and it is followed by the payload.",
        "Call hf_hub_download(repo_id, filename) and set npm_config_cache.",
        "Sales in Asia grew; the secret is consistency; sk_learn is a common alias.",
        "client-key-data: REDACTED",
    ],
)
def test_placeholders_and_published_examples_are_not_secrets(text: str) -> None:
    assert RULES.content_reason(text) is None


def _shared_texts() -> list[tuple[str, str]]:
    texts = []
    for path in sorted((DATA / "docs").rglob("*")) + sorted((DATA / "retrieval").rglob("*")):
        if not path.is_file():
            continue
        try:
            _, doc = parse(path, path.read_bytes())
        except UnreadableFileError:
            continue
        texts.append((path.name, f"{doc.title}\n{doc.text}"))
    return texts


def test_no_false_positive_on_the_shared_documents_and_dev_sets() -> None:
    texts = _shared_texts()
    assert len(texts) >= 16 and sum(len(t) for _, t in texts) > 2_000_000
    assert [(name, RULES.content_reason(text)) for name, text in texts if RULES.content_reason(text)] == []


def test_user_rules_extend_the_built_in_ones() -> None:
    rules = SecretRules(extra_names=("*.private", "wallet.dat"), extra_patterns=(r"ACME-[0-9]{8}",))
    assert "secret_names" in (rules.name_reason("notes.PRIVATE") or "")
    assert rules.name_reason("wallet.dat")
    assert rules.name_reason("id_rsa")  # the built-in ones still apply
    assert "secret_patterns[0]" in (rules.content_reason("badge ACME-12345678 issued") or "")
    assert rules.content_reason("ACME-1234") is None


def test_secret_settings_come_from_config_and_a_bad_regex_names_the_key(home: Path) -> None:
    home.mkdir(parents=True)
    (home / "config.toml").write_text(
        'secret_names = ["*.private"]\nsecret_patterns = ["ACME-[0-9]{8}"]\n', encoding="utf-8"
    )
    settings = load_settings(environ={"ASSISTANT_HOME": str(home)})
    assert settings.secret_rules() == SecretRules(("*.private",), ("ACME-[0-9]{8}",))
    for bad, message in (
        ('secret_patterns = ["ACME-[0-9"]', r"secret_patterns.*not a valid regular expression"),
        ('secret_patterns = ["x*"]', r"secret_patterns.*matches empty text"),
        ('secret_names = "*.private"', r"secret_names.*list of non-empty strings"),
        ("secret_patterns = [1]", r"secret_patterns.*list of non-empty strings"),
    ):
        (home / "config.toml").write_text(bad + "\n", encoding="utf-8")
        with pytest.raises(SettingsError, match=message):
            load_settings(environ={"ASSISTANT_HOME": str(home)})


def _docx_with(lines: list[str]) -> bytes:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_folder_with_secrets_indexes_only_its_documents(open_kb, tmp_path: Path) -> None:
    samples = tokens(seed=11)
    secret_files: dict[str, str | bytes] = {
        "keys/id_rsa": pem(seed=2),
        "keys/id_ed25519": pem("OPENSSH PRIVATE KEY", seed=3),
        "server.key": pem(seed=4),
        "cert.pem": pem("CERTIFICATE", seed=5),
        "credentials": "[default]\n" + samples["aws-secret-access-key"] + "\n",
        "kubeconfig": "apiVersion: v1\nusers:\n- user:\n    " + samples["kubeconfig-client-key"] + "\n",
        "prod.env": "DATABASE_URL=postgres://app:hunter2@db/app\n",
        "secrets.json": '{"api_key": "' + samples["stripe-access-token"] + '"}',
        # Secrets by content, under innocent names and in every kind of document.
        "notes/deploy.md": "# Deploy\n\nUse " + samples["github-token"] + " to push.\n",
        "notes/aws.txt": "The CI user is " + samples["aws-access-token"] + ".\n",
        "notes/backup.pdf": pdf_with_lines(["Backup key for the file server"] + pem(seed=6).splitlines()),
        "notes/handover.docx": _docx_with(["Handover", *pem("PRIVATE KEY", seed=8).splitlines()]),
        "notes/config.yaml": "openai:\n  key: " + samples["openai-api-key"] + "\n",
    }
    folder = write_files(tmp_path / "docs", {"ducks.md": english("ducks"), **secret_files})
    kb = open_kb()
    summary = sync(kb, folder)

    skipped = {
        Path(s.path).relative_to(folder.resolve()).as_posix(): s.reason for s in summary.files_skipped_list
    }
    assert set(skipped) == set(secret_files)
    assert all("secrets are never indexed" in reason for reason in skipped.values())
    assert (
        "(private-key)" in skipped["notes/backup.pdf"] and "(private-key)" in skipped["notes/handover.docx"]
    )
    assert "(github-token)" in skipped["notes/deploy.md"]
    assert [Path(p).name for p in kb.index.files()] == ["ducks.md"]
    assert summary.files_failed == []
    for needle in ("BEGIN", samples["github-token"], "hunter2", "CI user"):
        assert kb.lexical_search(needle) == [], needle


def test_a_file_that_gains_a_secret_loses_its_indexed_chunks(open_kb, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "docs", {"ops.md": english("lanterns")})
    kb = open_kb()
    sync(kb, folder)
    assert kb.lexical_search("lanterns")
    token = tokens(seed=5)["gitlab-token"]
    (folder / "ops.md").write_text(english("lanterns") + f"\nToken: {token}\n", encoding="utf-8")
    summary = sync(kb, folder, secrets=SecretRules())
    [skip] = summary.files_skipped_list
    assert skip.reason.endswith(
        "(gitlab-token); secrets are never indexed; its previously indexed chunks were removed"
    )
    assert kb.lexical_search("lanterns") == [] and kb.index.files() == {}

    # A name added to the user's rules also takes an indexed file out.
    write_files(folder, {"ops.md": english("lanterns"), "ledger.private": english("ledgers")})
    sync(kb, folder)
    assert kb.lexical_search("ledgers")
    summary = sync(kb, folder, secrets=SecretRules(extra_names=("*.private",)))
    assert [Path(s.path).name for s in summary.files_skipped_list] == ["ledger.private"]
    assert kb.lexical_search("ledgers") == [] and kb.lexical_search("lanterns")


def test_new_content_rules_check_the_unchanged_files_once(open_kb, tmp_path: Path) -> None:
    """A file indexed before a content rule existed (a base from an earlier release, or a pattern
    the user adds to config.toml) is checked with it at the next ingest though it did not change;
    after that, unchanged files are not read again until the rules change."""
    folder = write_files(
        tmp_path / "docs",
        {"ops.md": english("lanterns") + "\nBadge: ACME-20261206\n", "ducks.md": english("ducks")},
    )
    kb = open_kb()
    sync(kb, folder)
    assert kb.lexical_search("lanterns")

    rules = SecretRules(extra_patterns=(r"ACME-[0-9]{8}",))
    summary = sync(kb, folder, secrets=rules)
    [skip] = summary.files_skipped_list
    assert Path(skip.path).name == "ops.md" and "secret_patterns[0]" in skip.reason
    assert skip.reason.endswith("its previously indexed chunks were removed")
    assert kb.lexical_search("lanterns") == [] and kb.lexical_search("ducks")
    assert summary.files_unchanged == 1 and summary.files_updated == 0  # ducks.md, checked: as it was

    # Checked with these rules: the next ingest reads nothing that did not change.
    (folder / "ops.md").unlink()
    again = sync(kb, folder, secrets=rules, parser=_no_parse)
    assert again.files_unchanged == 1 and again.files_failed == []
    # Other rules: read (and checked) again.
    other = sync(kb, folder, secrets=SecretRules(extra_patterns=(r"ZZTOP-[0-9]{4}",)), parser=_no_parse)
    [failed] = other.files_failed
    assert Path(failed.path).name == "ducks.md" and "parsed ducks.md" in failed.error


def _no_parse(path: Path, data: bytes):
    raise AssertionError(f"parsed {path.name}: an unchanged file was read")
