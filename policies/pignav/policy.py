"""The PIG-Nav policy (and its late-fusion baseline): images -> predicted waypoints -> the waypoint
controller -> wheel commands."""

from __future__ import annotations

import torch

from control.controller import WaypointController
from policies.context import ContextBuffer
from policies.images import to_model_images
from policies.pignav.config import PigNavConfig
from policies.pignav.model import PigNavNet


class PigNavPolicy:
    """Acts from ``obs['rgb']`` and ``obs['goal_rgb']`` only."""

    def __init__(self, model: PigNavNet, config: PigNavConfig, num_envs: int, device: str = "cpu",
                 metadata: dict | None = None):  # fmt: skip
        """`metadata`: what its checkpoint records besides the weights (variant, data...; {} in training)."""
        self.model, self.config, self.device = model.to(device).eval(), config, device
        self.kind, self.metadata = config.kind, metadata or {}
        self.controller = WaypointController(num_envs, config.speed, config.max_wheel_change, device)
        self.context = None
        if config.context:
            pixels = 3 * config.image_size**2
            self.context = ContextBuffer(num_envs, config.context + 1, pixels, device)

    @classmethod
    def from_checkpoint(cls, ckpt: dict, num_envs: int, device: str = "cpu") -> PigNavPolicy:
        """The policy from a checkpoint dict (`training.read_checkpoint`)."""
        config = PigNavConfig.from_dict(ckpt["config"])
        model = PigNavNet(config)
        model.load_state_dict(ckpt["state_dict"])
        return cls(model, config, num_envs, device, {k: v for k, v in ckpt.items() if k != "state_dict"})

    def reset(self, env_ids: torch.Tensor) -> None:
        self.controller.reset(env_ids)
        if self.context is not None:
            self.context.reset(env_ids)

    @torch.no_grad()
    def predict(self, obs: dict) -> dict[str, torch.Tensor]:
        """The heads' outputs for a batch of observations."""
        size = self.config.image_size
        image = to_model_images(obs["rgb"].to(self.device), size)
        goal = to_model_images(obs["goal_rgb"].to(self.device), size)
        context = None
        if self.context is not None:
            frames = self.context.push(image.flatten(1)).view(len(image), -1, *image.shape[1:])
            context = frames[:, :-1]
        return self.model(image, goal, context)

    def act(self, obs: dict) -> torch.Tensor:
        return self.steer(self.predict(obs))

    def steer(self, heads: dict[str, torch.Tensor]) -> torch.Tensor:
        """Wheel commands from the heads' outputs: the controller at the configured lookahead waypoint."""
        target = heads["waypoints"][:, self.config.lookahead, :2] * self.config.waypoint_spacing
        return self.controller(target)
