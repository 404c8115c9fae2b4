"""Deploy the repo root as a Hugging Face Space.

    HF_TOKEN=hf_... python scripts/deploy_space.py user/space-name

Uses ``HfApi().upload_folder(repo_type="space")``, which stores binary files (checkpoints,
screenshots) through Xet by itself; a plain ``git push`` of them is refused by the Hub.
Never run by the tests (it needs the user's token and the internet).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 1 or "/" not in argv[0]:
        print("usage: python scripts/deploy_space.py USER/SPACE  (with HF_TOKEN set)", file=sys.stderr)
        return 2
    token = os.environ.get("HF_TOKEN")
    if not token:
        print("HF_TOKEN is not set: create a write token at huggingface.co/settings/tokens", file=sys.stderr)
        return 2
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(argv[0], repo_type="space", space_sdk="gradio", exist_ok=True)
    api.upload_folder(
        repo_id=argv[0], repo_type="space", folder_path=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        ignore_patterns=[".venv/*", "artifacts/*", ".git/*", "**/__pycache__/*", ".hypothesis/*", ".pytest_cache/*"],
        commit_message="Deploy Hands-On DL Lab",
    )
    print(f"Deployed: https://huggingface.co/spaces/{argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
