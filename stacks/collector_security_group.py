"""The collector's security group: CSM datagrams (UDP) and OTLP/HTTP traces (TCP) in from the workload security
group only (and from the whole VPC only when asked), the proxy's TCP port from the workload security group only
(with proxy=true), HTTPS out to AWS APIs."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

HTTPS = ec2.Port.tcp(443)


class CollectorSecurityGroup(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        port: int,
        otlp_port: int,
        workload_security_group: ec2.ISecurityGroup,
        allowed_vpc_cidr: str | None,
        proxy_port: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"csm-collector: CSM (UDP {port}) and OTLP/HTTP (TCP {otlp_port}) from workloads; HTTPS out",
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "HTTPS to AWS APIs (NAT or VPC endpoints)")
        csm, otlp = ec2.Port.udp(port), ec2.Port.tcp(otlp_port)
        self.security_group.add_ingress_rule(workload_security_group, csm, "CSM datagrams from workloads")
        self.security_group.add_ingress_rule(workload_security_group, otlp, "OTLP/HTTP traces from workloads")
        if proxy_port is not None:  # the HTTPS proxy: TCP from the workload security group only, never the VPC
            self.security_group.add_ingress_rule(
                workload_security_group, ec2.Port.tcp(proxy_port), "HTTPS proxy (csm-collector proxy) from workloads"
            )
        if allowed_vpc_cidr:
            vpc_peer = ec2.Peer.ipv4(allowed_vpc_cidr)
            self.security_group.add_ingress_rule(vpc_peer, csm, "CSM datagrams from anywhere in the VPC (allowVpcCidr)")
            self.security_group.add_ingress_rule(vpc_peer, otlp, "OTLP/HTTP from anywhere in the VPC (allowVpcCidr)")
