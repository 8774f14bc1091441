"""Isaac Lab task environments for goalnav, registered as gymnasium ids.

``import envs`` registers every task; :func:`envs.registry.open_env` builds one.
"""

from envs import arena, scenes  # noqa: F401  (register GoalNav-Arena and the image-goal scenes)
