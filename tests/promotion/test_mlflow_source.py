"""The MLflow source of `register --from-mlflow`: URIs, where the tracking server is, packing,
and the message when the MLflow client is missing. The real server is exercised in
tests/integration/test_mlflow_lineage.py."""

from __future__ import annotations

import hashlib
import sys
import tarfile
from pathlib import Path

import pytest

from mlplatform.promotion import mlflow_source
from mlplatform.promotion.errors import PromotionError


def test_models_and_runs_uris_are_parsed() -> None:
    assert mlflow_source.parse("models:/fraud-xgb/3") == ("models", "fraud-xgb", "3")
    assert mlflow_source.parse("runs:/0a1b2c/model/model.bin") == ("runs", "0a1b2c", "model/model.bin")


@pytest.mark.parametrize("uri", ["models:/fraud-xgb", "models:/fraud-xgb@champion", "s3://b/k", "runs:/abc"])
def test_other_uris_are_refused_with_the_forms_that_work(uri: str) -> None:
    with pytest.raises(PromotionError) as err:
        mlflow_source.parse(uri)
    assert str(err.value) == (
        f"--from-mlflow {uri}: expected models:/NAME/VERSION (a registered model version) or runs:/RUN_ID/PATH"
    )


def test_tracking_uri_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://env:5000")
    assert mlflow_source.tracking_uri("http://flag:5000", "arn:published") == "http://flag:5000"
    assert mlflow_source.tracking_uri(None, "arn:published") == "http://env:5000"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert mlflow_source.tracking_uri(None, "arn:published") == "arn:published"
    with pytest.raises(PromotionError, match="--from-mlflow needs the MLflow tracking server: pass --tracking-uri"):
        mlflow_source.tracking_uri(None, None)


def test_a_model_directory_packs_to_the_same_bytes_wherever_it_is(tmp_path: Path) -> None:
    digests = []
    for i, where in enumerate(("a", "b")):
        model = tmp_path / where / "model"
        (model / "sub").mkdir(parents=True)
        (model / "MLmodel").write_text("flavors: {}\n")
        (model / "sub" / "weights.bin").write_bytes(b"\x00\x01" * 100)
        packed = mlflow_source.pack(model, tmp_path / where / f"model-{i}.tar.gz")
        digests.append(hashlib.sha256(packed.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    with tarfile.open(packed) as tar:
        assert tar.getnames() == ["MLmodel", "sub/weights.bin"]
        assert {m.mtime for m in tar.getmembers()} == {0}


def test_without_the_mlflow_client_the_message_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    with pytest.raises(PromotionError) as err:
        mlflow_source.resolve("models:/fraud-xgb/1", "http://127.0.0.1:1", tmp_path)
    assert str(err.value) == (
        "--from-mlflow needs the MLflow client, which is not installed: pip install 'mlplatform[mlflow]'"
    )
