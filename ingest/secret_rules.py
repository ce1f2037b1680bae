"""Secrets are never indexed: files recognised as keys, certificates, credentials or password
stores by their NAME are not read at all, and a file whose extracted text holds a private key
block or a well-known token format is not indexed.

The content rules are high-confidence patterns only (a fixed prefix or a fixed structure, plus a
randomness check like gitleaks' `entropy`), taken from the rule sets of the two common secret
scanners: gitleaks' default config (github.com/gitleaks/gitleaks, config/gitleaks.toml: rule ids
below) and detect-secrets' plugins (github.com/Yelp/detect-secrets, detect_secrets/plugins/). The
generic "password = ..." keyword rules those tools also have are left out: they misfire on
ordinary documentation. Users extend both lists in config.toml (`secret_names`,
`secret_patterns`); see README "Secrets are never indexed".
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

#: File-name patterns (shell globs, matched case-insensitively against a file's name) of files
#: that hold secrets whatever their content, with what each is, for the skip reason.
NAME_RULES: tuple[tuple[str, str], ...] = (
    # Private keys, certificates and keystores.
    *((p, "a key or certificate file") for p in (
        "*.pem", "*.key", "*.p12", "*.pfx", "*.p8", "*.pkcs12", "*.crt", "*.cer", "*.der",
        "*.p7b", "*.p7c", "*.ppk", "*.gpg", "*.pgp", "secring.*", "*.keytab",
    )),
    *((p, "a keystore") for p in ("*.jks", "*.keystore", "*.jceks", "*.bks")),
    # SSH.
    *((p, "an SSH key or SSH access file") for p in (
        "id_rsa", "id_rsa.*", "id_dsa", "id_dsa.*", "id_ecdsa", "id_ecdsa.*", "id_ecdsa_sk*",
        "id_ed25519", "id_ed25519.*", "id_ed25519_sk*", "id_xmss*", "ssh_host_*key*",
        "authorized_keys*", "known_hosts*",
    )),
    # Environment files.
    *((p, "an environment file") for p in (".env", ".env.*", "*.env", "*.env.*", ".envrc")),
    # Credential and token files of common tools (AWS, gcloud, git, npm, PyPI, Docker, ...).
    *((p, "a credentials file") for p in (
        "credentials", "credentials.*", "*_credentials", "*_credentials.*", "*-credentials",
        "*-credentials.*", "*.credentials", "client_secret*.json", "service-account*.json",
        "service_account*.json", ".netrc", "_netrc", ".pgpass", "pgpass.conf",
        ".git-credentials", ".npmrc", ".pypirc", ".yarnrc.yml", ".dockercfg", ".s3cfg", ".boto",
        ".htpasswd", "htpasswd", "*.tfstate", "*.tfstate.backup",
    )),
    *((p, "a Kubernetes config") for p in ("kubeconfig", "kubeconfig.*", "*.kubeconfig")),
    # Password managers and their exports.
    *((p, "a password store or export") for p in (
        "*.kdbx", "*.kdb", "*.1pux", "*.1pif", "*.opvault", "*.agilekeychain", "*.psafe3",
        "*.keychain", "*.keychain-db", "bitwarden_export*", "*password*.csv", "logins.csv",
        "lastpass*.csv", "keepass*.csv", "1password*.csv", "dashlane*.csv",
    )),
    *((p, "a secrets file") for p in (
        "secrets.*", "secret.json", "secret.yaml", "secret.yml", "*secrets.json", "*secrets.yaml",
        "*secrets.yml", "*secrets.toml", "*.secrets",
    )),
)  # fmt: skip

# Extensions "secrets.*" must not catch: a chapter called "Secrets.md" is a document.
_DOCUMENT_EXTENSIONS = frozenset(
    ".md .markdown .txt .rst .html .htm .pdf .docx .epub .doc .odt .rtf .tex .org .adoc".split()
)


@dataclass(frozen=True)
class ContentRule:
    """One token format: `id` (the scanner's rule id, shown in the skip reason); `keywords`, of
    which the lower-cased text must hold one before the regex runs (gitleaks' `keywords`: most
    documents hold none, and a scan for a literal is far cheaper than the regex); what it is; the
    regex; and optional checks on a match: the least Shannon entropy of the matched text (as
    gitleaks' `entropy`), text that marks a published example (as gitleaks' allowlists), and a
    validator (detect-secrets' JWT check)."""

    id: str
    keywords: tuple[str, ...]
    what: str
    pattern: str
    entropy: float = 0.0
    allow: str | None = None
    valid: Callable[[str], bool] | None = None


def _jwt_is_valid(token: str) -> bool:
    """detect-secrets' JwtTokenDetector.is_formally_valid: header and payload decode to JSON."""
    for part in token.split(".")[:2]:
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
            json.loads(raw.decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return False
    return True


#: How a token ends in gitleaks' rules: a quote, space, semicolon, an escaped newline, or the end.
_END = r"(?=[`'\"\s;,)\]}<]|\\[nr]|$)"

CONTENT_RULES: tuple[ContentRule, ...] = (
    # gitleaks `private-key`; detect-secrets PrivateKeyDetector (PEM, OpenSSH, PGP blocks, PuTTY).
    ContentRule(
        "private-key",
        ("-----begin",),
        "a private key",
        r"(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----",
    ),
    ContentRule(
        "putty-private-key",
        ("putty-user-key-file",),
        "a PuTTY private key",
        r"PuTTY-User-Key-File-[23]:[\s\S]{0,4000}?Private-Lines:",
    ),
    # gitleaks `aws-access-token` (its allowlist: keys ending in EXAMPLE are AWS's published ones).
    ContentRule(
        "aws-access-token",
        ("akia", "asia", "abia", "acca", "a3t"),
        "an AWS access key id",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",
        entropy=3,
        allow=r"EXAMPLE$",
    ),
    # detect-secrets AWSKeyDetector's secret access key (40 characters after the key's name).
    ContentRule(
        "aws-secret-access-key",
        ("secret",),
        "an AWS secret access key",
        r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])",
        entropy=3,
        allow=r"EXAMPLE",
    ),
    # gitleaks github-pat, github-oauth, github-app-token, github-refresh-token, github-fine-grained-pat.
    ContentRule(
        "github-token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        "a GitHub token",
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[0-9a-zA-Z]{36}\b",
        entropy=3,
    ),
    ContentRule(
        "github-fine-grained-pat", ("github_pat_",), "a GitHub token", r"\bgithub_pat_\w{82}\b", entropy=3
    ),
    # gitleaks gitlab-pat, gitlab-deploy-token, gitlab-runner-authentication-token, gitlab-ptt, ...
    ContentRule(
        "gitlab-token",
        (
            "glpat-",
            "gldt-",
            "glrt-",
            "glsoat-",
            "glffct-",
            "glft-",
            "glagent-",
            "gloas-",
            "glptt-",
            "gr1348941",
        ),
        "a GitLab token",
        r"\b(?:glpat|gldt|glrt|glsoat|glffct|glft|glagent|gloas)-[\w-]{20,}|\bglptt-[0-9a-f]{40}\b"
        r"|\bGR1348941[\w-]{20}",
        entropy=3,
    ),
    # detect-secrets SlackDetector (tokens); gitleaks slack-webhook-url.
    ContentRule("slack-token", ("xox",), "a Slack token", r"(?i)\bxox[abposr]-(?:\d+-)+[a-z0-9]+", entropy=2),
    ContentRule(
        "slack-webhook-url",
        ("hooks.slack.com",),
        "a Slack webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",
        entropy=3,
    ),
    # gitleaks stripe-access-token (secret and restricted keys; publishable pk_ keys are public).
    ContentRule(
        "stripe-access-token",
        ("sk_", "rk_"),
        "a Stripe secret key",
        rf"\b(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{{10,99}}{_END}",
        entropy=2,
    ),
    # gitleaks openai-api-key; detect-secrets OpenAIDetector (the T3BlbkFJ marker).
    ContentRule(
        "openai-api-key",
        ("t3blbkfj",),
        "an OpenAI API key",
        r"\bsk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ"
        r"(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\b|\bsk-[A-Za-z0-9_-]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
        entropy=3,
    ),
    # gitleaks anthropic-api-key, anthropic-admin-api-key.
    ContentRule(
        "anthropic-api-key", ("sk-ant-",), "an Anthropic API key", r"\bsk-ant-(?:api03|admin01)-[\w-]{93}AA\b"
    ),
    # gitleaks gcp-api-key.
    ContentRule("gcp-api-key", ("aiza",), "a Google API key", rf"\bAIza[\w-]{{35}}{_END}", entropy=3),
    # gitleaks jwt, starting "eyJ" (a JSON header) as detect-secrets' JwtTokenDetector does, and
    # validated as it does.
    ContentRule(
        "jwt",
        ("eyj",),
        "a JSON Web Token",
        rf"\beyJ[a-zA-Z0-9]{{16,}}\.eyJ[a-zA-Z0-9/\\_-]{{16,}}\.(?:[a-zA-Z0-9/\\_-]{{10,}}={{0,2}})?{_END}",
        entropy=3,
        valid=_jwt_is_valid,
    ),
    # gitleaks npm-access-token, pypi-upload-token, huggingface-access-token, sendgrid-api-token.
    ContentRule("npm-access-token", ("npm_",), "an npm token", rf"(?i)\bnpm_[a-z0-9]{{36}}{_END}", entropy=2),
    ContentRule(
        "pypi-upload-token",
        ("pypi-ageichlwas5vcmc",),
        "a PyPI token",
        r"pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}",
        entropy=3,
    ),
    ContentRule(
        "huggingface-access-token", ("hf_",), "a Hugging Face token", rf"\bhf_[a-zA-Z]{{34}}{_END}", entropy=2
    ),
    ContentRule(
        "sendgrid-api-token", ("sg.",), "a SendGrid key", rf"\bSG\.[a-zA-Z0-9=_\-.]{{66}}{_END}", entropy=2
    ),
    # gitleaks age-secret-key, shopify-*, vault-service-token.
    ContentRule(
        "age-secret-key",
        ("age-secret-key-1",),
        "an age secret key",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
    ),
    ContentRule(
        "shopify-token",
        ("shpat_", "shpca_", "shppa_", "shpss_"),
        "a Shopify token",
        r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        entropy=2,
    ),
    ContentRule(
        "vault-service-token",
        ("hvs.",),
        "a HashiCorp Vault token",
        rf"\bhvs\.[\w-]{{90,120}}{_END}",
        entropy=3.5,
    ),
    # detect-secrets AzureStorageKeyDetector (AccountKey=...).
    ContentRule(
        "azure-storage-key",
        ("accountkey=",),
        "an Azure storage key",
        r"AccountKey=[A-Za-z0-9+/]{86,88}={0,2}",
        entropy=3,
    ),
    # A kubeconfig's embedded client key (base64 of a private key block).
    ContentRule(
        "kubeconfig-client-key",
        ("client-key-data",),
        "a Kubernetes client key",
        r"client-key-data:\s*[\"']?LS0tLS1CRUdJTi[A-Za-z0-9+/=]{40,}",
    ),
)


def shannon_entropy(text: str) -> float:
    """Bits per character of `text` (gitleaks' measure of how random a match looks)."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


class SecretPatternError(ValueError):
    """A user-supplied pattern is not a usable regular expression; the message says why."""


def check_pattern(pattern: str) -> None:
    """Raise SecretPatternError if `pattern` cannot serve as a content rule."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise SecretPatternError(f"'{pattern}' is not a valid regular expression ({exc})") from None
    if compiled.search("") is not None:
        raise SecretPatternError(f"'{pattern}' matches empty text, so it would match every file")


@dataclass(frozen=True)
class SecretRules:
    """The built-in rules plus a user's own (config.toml `secret_names`, `secret_patterns`).

    Picklable (it travels to the reader processes): the regexes are compiled on first use.
    """

    extra_names: tuple[str, ...] = ()
    extra_patterns: tuple[str, ...] = ()

    @cached_property
    def _names(self) -> tuple[tuple[str, str, str], ...]:
        rules = [*NAME_RULES, *((p, "a file named in secret_names") for p in self.extra_names)]
        return tuple((p, p.lower(), what) for p, what in rules)

    @cached_property
    def _content(self) -> tuple[tuple[ContentRule, re.Pattern[str]], ...]:
        extra = (
            ContentRule(f"secret_patterns[{i}]", (), "text matching secret_patterns", p)
            for i, p in enumerate(self.extra_patterns)
        )
        return tuple((rule, re.compile(rule.pattern)) for rule in (*CONTENT_RULES, *extra))

    @cached_property
    def content_version(self) -> str:
        """A fingerprint of the content rules (built in and the user's own). Name rules need none:
        they are applied to every file found at every ingest; content rules only to files read,
        so an ingest reads its unchanged files again when this changes (ingest.sync)."""
        parts = [f"{r.id}\x1f{r.pattern}\x1f{r.entropy}\x1f{r.allow}" for r, _ in self._content]
        return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()[:16]

    def name_reason(self, name: str) -> str | None:
        """Why a file called `name` is never read, or None."""
        lowered = name.lower()
        for pattern, folded, what in self._names:
            if not fnmatch.fnmatchcase(lowered, folded):
                continue
            if pattern == "secrets.*" and "." + lowered.rsplit(".", 1)[-1] in _DOCUMENT_EXTENSIONS:
                continue
            return f"looks like {what} by its name ({pattern}); secrets are never indexed"
        return None

    def content_reason(self, text: str) -> str | None:
        """Why a document whose extracted text is `text` is not indexed, or None."""
        lowered = text.lower()
        for rule, regex in self._content:
            if rule.keywords and not any(word in lowered for word in rule.keywords):
                continue
            for match in regex.finditer(text):
                if _counts(rule, match.group()):
                    return f"contains {rule.what} ({rule.id}); secrets are never indexed"
        return None


def _counts(rule: ContentRule, found: str) -> bool:
    """Whether a match of `rule` is a secret rather than a placeholder or a published example."""
    if rule.entropy and shannon_entropy(found) < rule.entropy:
        return False
    if rule.allow and re.search(rule.allow, found):
        return False
    return rule.valid is None or rule.valid(found)
