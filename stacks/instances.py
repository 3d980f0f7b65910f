"""What every EC2 instance here shares: the Amazon Linux 2023 image (arm64 or x86_64) resolved at launch, an encrypted
gp3 root volume, standard (not unlimited) CPU credits on burstable types so a busy instance is throttled
instead of billed extra, and a first-boot package install that survives dnf's cache race."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2

from .config import Architecture

# The public SSM parameters naming the newest Amazon Linux 2023 AMI of each architecture.
AL2023_IMAGE_PARAMETERS = {
    Architecture.ARM64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    Architecture.X86_64: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
}
ROOT_DEVICE = "/dev/xvda"
ROOT_VOLUME_GIB = 8
BURSTABLE_FAMILY_PREFIX = "t"
PACKAGE_INSTALL_ATTEMPTS = 30
PACKAGE_INSTALL_RETRY_SECONDS = 10


def dnf_install_commands(packages: Sequence[str]) -> list[str]:
    """Shell commands installing `packages` with a bounded retry, for every instance's user data.

    At first boot a single `dnf install` can lose a race with dnf's own cache cleanup (seen with CDK's
    default NAT user data, aws/aws-cdk#36717, open). Retried up to 30 times, 10 s apart; `rpm -q` then
    fails the script (it runs under `set -e`) if no attempt installed everything.
    """
    names = " ".join(packages)
    return [
        f"for attempt in $(seq 1 {PACKAGE_INSTALL_ATTEMPTS}); do dnf install -y {names} && break; "
        f'echo "dnf install failed (attempt $attempt), retrying in {PACKAGE_INSTALL_RETRY_SECONDS} s"; '
        f"sleep {PACKAGE_INSTALL_RETRY_SECONDS}; done",
        f"rpm -q {names}",
    ]


def al2023_image(architecture: Architecture) -> ec2.IMachineImage:
    """The newest Amazon Linux 2023 AMI, read from AWS's public SSM parameter when an instance launches.

    No lookup at synth (stacks stay environment-agnostic) and no instance replacement when AWS publishes a
    newer AMI: the template only holds the parameter name.
    """
    return ec2.MachineImage.resolve_ssm_parameter_at_launch(
        AL2023_IMAGE_PARAMETERS[architecture], os=ec2.OperatingSystemType.LINUX
    )


def standard_cpu_credits(instance_type: str) -> ec2.CpuCredits | None:
    """Standard credits for burstable types (t4g...); other families have no credit setting."""
    return ec2.CpuCredits.STANDARD if instance_type.startswith(BURSTABLE_FAMILY_PREFIX) else None


def encrypted_root_volume() -> ec2.BlockDevice:
    return ec2.BlockDevice(
        device_name=ROOT_DEVICE,
        volume=ec2.BlockDeviceVolume.ebs(
            ROOT_VOLUME_GIB, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3, delete_on_termination=True
        ),
    )


def encrypt_root_volume(instance: ec2.Instance) -> None:
    """For instances created by other constructs (the VPC's NAT instance), which take no block-device settings."""
    cfn_instance = instance.node.default_child
    if not isinstance(cfn_instance, ec2.CfnInstance):
        raise TypeError(f"{instance.node.path} has no CfnInstance to encrypt")
    cfn_instance.block_device_mappings = [
        ec2.CfnInstance.BlockDeviceMappingProperty(
            device_name=ROOT_DEVICE,
            ebs=ec2.CfnInstance.EbsProperty(encrypted=True, volume_type="gp3", delete_on_termination=True),
        )
    ]
