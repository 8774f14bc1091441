"""Frozen encoders: the tiny offline SigLIP, weight loading, normalisation, tokenisation, the cache."""

from __future__ import annotations

import shutil

import pytest
import torch
from fakes import fake_episode

from episodes import files as dataset
from policies.encoders import EncoderWeightsMissing, joint_embedding, make_encoder
from policies.encoders.cache import build_cache, cache_path, load_cache
from policies.encoders.tiny_siglip import CONTEXT_LENGTH, WIDTH, write_tiny_siglip


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return write_tiny_siglip(tmp_path_factory.mktemp("encoders") / "tiny-siglip")


@pytest.fixture(scope="module")
def tiny(tiny_dir):
    return make_encoder("tiny-siglip", weights=tiny_dir)


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        0, 256, (n, 64, 64, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed)
    )


def test_tiny_siglip_has_siglip_architecture(tiny):
    model = tiny.model
    assert type(model).__name__ == "CustomTextCLIP" and type(model.visual).__name__ == "TimmModel"
    assert model.visual.trunk.global_pool == "map" and not model.visual.trunk.has_class_token
    assert model.text.attn_mask is None  # no causal mask, as in SigLIP's text tower


@pytest.mark.parametrize("name", ["tiny-siglip", "pixels"])
def test_embeddings_have_the_right_shape_and_unit_norm(name, tiny_dir):
    encoder = make_encoder(name, weights=tiny_dir if name == "tiny-siglip" else None)
    image = encoder.encode_images(images(5))
    text = encoder.encode_texts(["go to the red sphere", "go to the blue sphere to your left"])
    assert image.shape == (5, encoder.dim) and text.shape == (2, encoder.dim)
    assert torch.allclose(image.norm(dim=-1), torch.ones(5), atol=1e-5)
    assert torch.allclose(text.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert not torch.allclose(text[0], text[1])


def test_joint_embedding_sums_unit_vectors_and_can_renormalise():
    image, text = torch.randn(4, 8) * 3, torch.randn(4, 8)
    joint = joint_embedding(image, text)
    expected = image / image.norm(dim=-1, keepdim=True) + text / text.norm(dim=-1, keepdim=True)
    assert torch.allclose(joint, expected, atol=1e-6)
    assert torch.allclose(joint_embedding(image, text, renormalize=True).norm(dim=-1), torch.ones(4))


def test_tokenizer_pads_every_prompt_to_the_context_length(tiny):
    tokens = tiny.tokenize(["go to the red sphere", "go to the purple sphere to your right"])
    pad = tiny.tokenizer.tokenizer.pad_token_id
    assert tokens.shape == (2, CONTEXT_LENGTH)  # not padded to the longest prompt
    assert (tokens[0] == pad).sum() > (tokens[1] == pad).sum() > 0


def test_weights_load_from_the_folder_not_from_random_init(tiny, tiny_dir):
    again = make_encoder("tiny-siglip", weights=tiny_dir)
    for name, value in tiny.model.state_dict().items():  # the same weights, exactly
        assert torch.equal(again.model.state_dict()[name], value), name
    torch.testing.assert_close(
        again.encode_images(images(2)), tiny.encode_images(images(2)), rtol=1e-5, atol=1e-6
    )
    other = make_encoder("tiny-siglip", weights=write_tiny_siglip(tiny_dir.parent / "seed1", seed=1))
    assert not torch.allclose(other.encode_images(images(2)), tiny.encode_images(images(2)))


def test_pretrained_encoder_loads_from_the_hugging_face_cache(tiny_dir, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(EncoderWeightsMissing, match="hf download timm/ViT-B-16-SigLIP"):
        make_encoder("siglip-b16")
    # lay the tiny model out as the cache does for a downloaded repo, then it loads without network
    repo = tmp_path / "models--timm--ViT-B-16-SigLIP"
    shutil.copytree(tiny_dir, repo / "snapshots" / "0123abcd")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    encoder = make_encoder("siglip-b16")
    assert encoder.name == "siglip-b16" and encoder.dim == WIDTH


def test_unknown_encoder_names_the_choices():
    with pytest.raises(ValueError, match="siglip-so400m, siglip-b16, clip-b32"):
        make_encoder("dino")


class CountingEncoder:
    """Wraps an encoder and counts the frames it embeds."""

    def __init__(self, encoder):
        self.encoder, self.name, self.dim, self.frames = encoder, encoder.name, encoder.dim, 0

    def encode_images(self, x):
        self.frames += len(x)
        return self.encoder.encode_images(x)

    def encode_texts(self, texts):
        return self.encoder.encode_texts(texts)


def test_embedding_cache_is_reused_and_grows_incrementally(tmp_path):
    demos = tmp_path / "demos"
    demos.mkdir()
    for i in range(3):
        attrs = {"instruction": f"go to the {['red', 'blue', 'green'][i]} sphere"}
        dataset.write_episode(dataset.episode_path(demos, i), "arena", fake_episode(4 + i, i), attrs, i, True)
    encoder = CountingEncoder(make_encoder("pixels"))
    path = build_cache(demos, encoder, progress=False)
    assert path == cache_path(demos, "pixels") and encoder.frames == 4 + 5 + 6
    build_cache(demos, encoder, progress=False)
    assert encoder.frames == 15  # nothing recomputed
    attrs = {"instruction": "go to the red sphere"}
    dataset.write_episode(dataset.episode_path(demos, 3), "arena", fake_episode(7, 3), attrs, 3, True)
    build_cache(demos, encoder, progress=False)
    assert encoder.frames == 15 + 7  # only the new episode
    episodes = load_cache(path)
    assert [len(e["image"]) for e in episodes] == [4, 5, 6, 7] and episodes[3]["actions"].shape == (7, 2)
    first, _ = dataset.read_episode(dataset.episode_path(demos, 0))
    assert torch.allclose(
        torch.from_numpy(episodes[0]["image"]).float(),
        encoder.encode_images(torch.from_numpy(first["obs"]["rgb"])),
        atol=2e-3,
    )


def test_cache_refuses_embeddings_of_another_encoder(tmp_path, tiny):
    demos = tmp_path / "demos"
    demos.mkdir()
    dataset.write_episode(
        dataset.episode_path(demos, 0), "arena", fake_episode(), {"instruction": "go"}, 0, True
    )
    build_cache(demos, make_encoder("pixels"), progress=False)
    cache_path(demos, "pixels").rename(cache_path(demos, tiny.name))
    with pytest.raises(dataset.DatasetError, match="another encoder"):
        build_cache(demos, tiny, progress=False)
