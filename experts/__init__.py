"""Privileged experts, the teachers: the PPO expert on the privileged state (`experts.ppo`) and the
shortest-path planner of the image-goal scenes (`experts.planner`). Both label demonstrations and both
act behind the policy interface (`rollouts.policy.Policy`)."""
