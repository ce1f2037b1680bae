"""Secrets for tests, made at run time (random, so none is real and none sits in the repository):
one sample of each token format the content rules know, private key blocks, and a PDF that
holds one."""

from __future__ import annotations

import base64
import json
import random
import string

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "_-"


def rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def pem(kind: str = "RSA PRIVATE KEY", lines: int = 12, seed: int = 1) -> str:
    """A private key block of `kind` with a random body (the shape of a real one)."""
    rng = random.Random(seed)
    body = "\n".join(rand(rng, B64, 64) for _ in range(lines))
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def tokens(seed: int = 7) -> dict[str, str]:
    """Rule id -> a random token in that rule's format."""
    rng = random.Random(seed)
    key_block = pem(seed=seed)
    return {
        "private-key": key_block,
        "putty-private-key": "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: work\n"
        f"Public-Lines: 2\n{rand(rng, B64, 64)}\n{rand(rng, B64, 20)}\n"
        f"Private-Lines: 1\n{rand(rng, B64, 44)}\n",
        "aws-access-token": "AKIA" + rand(rng, string.ascii_uppercase + "234567", 16),
        "aws-secret-access-key": "aws_secret_access_key = " + rand(rng, ALNUM + "+/", 40),
        "github-token": "ghp_" + rand(rng, ALNUM, 36),
        "github-fine-grained-pat": "github_pat_" + rand(rng, ALNUM + "_", 82),
        "gitlab-token": "glpat-" + rand(rng, URLSAFE, 20),
        "slack-token": f"xoxb-{rand(rng, string.digits, 12)}-{rand(rng, string.digits, 13)}-"
        + rand(rng, string.ascii_lowercase + string.digits, 24),
        "slack-webhook-url": "https://hooks.slack.com/services/"
        + f"T{rand(rng, ALNUM, 8)}/B{rand(rng, ALNUM, 10)}/{rand(rng, ALNUM, 24)}",
        "stripe-access-token": "sk_live_" + rand(rng, ALNUM, 24),
        "openai-api-key": "sk-proj-" + rand(rng, URLSAFE, 74) + "T3BlbkFJ" + rand(rng, URLSAFE, 74),
        "anthropic-api-key": "sk-ant-api03-" + rand(rng, URLSAFE, 93) + "AA",
        "gcp-api-key": "AIza" + rand(rng, URLSAFE, 35),
        "jwt": ".".join(
            [
                _b64url({"alg": "HS256", "typ": "JWT"}),
                _b64url({"sub": "1234", "admin": True}),
                rand(rng, URLSAFE, 43),
            ]
        ),
        "npm-access-token": "npm_" + rand(rng, string.ascii_lowercase + string.digits, 36),
        "pypi-upload-token": "pypi-AgEIcHlwaS5vcmc" + rand(rng, URLSAFE, 70),
        "huggingface-access-token": "hf_" + rand(rng, string.ascii_letters, 34),
        "sendgrid-api-token": f"SG.{rand(rng, URLSAFE, 22)}.{rand(rng, URLSAFE, 43)}",
        "age-secret-key": "AGE-SECRET-KEY-1" + rand(rng, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58),
        "shopify-token": "shpat_" + rand(rng, "0123456789abcdef", 32),
        "vault-service-token": "hvs." + rand(rng, URLSAFE, 95),
        "azure-storage-key": "DefaultEndpointsProtocol=https;AccountName=files;AccountKey="
        + rand(rng, B64, 86)
        + "==",
        "kubeconfig-client-key": "client-key-data: " + base64.b64encode(key_block.encode()).decode(),
    }


def pdf_with_lines(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds `lines` (Courier, one per line)."""
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    content = "BT /F1 8 Tf 20 770 Td 10 TL " + " ".join(f"({line}) Tj T*" for line in escaped) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>",
    ]
    out = "%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")
