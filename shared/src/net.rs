//! IPv4 CIDR blocks and port ranges: the arithmetic the path checks need, nothing more.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 CIDR block such as `10.0.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

impl Ipv4Cidr {
    /// `0.0.0.0/0`: the peer for anything outside the VPC.
    pub const ANYWHERE: Ipv4Cidr = Ipv4Cidr {
        network: 0,
        prefix: 0,
    };

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    /// True when every address of `other` is inside `self` (partial overlap is not containment).
    pub fn contains(&self, other: &Ipv4Cidr) -> bool {
        self.prefix <= other.prefix && other.network & Self::mask(self.prefix) == self.network
    }
}

impl FromStr for Ipv4Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let expected = || format!("expected an IPv4 CIDR such as 10.0.0.0/16, got {text:?}");
        let (addr, prefix) = text.split_once('/').ok_or_else(expected)?;
        let addr: Ipv4Addr = addr.trim().parse().map_err(|_| expected())?;
        let prefix: u8 = prefix.trim().parse().map_err(|_| expected())?;
        if prefix > 32 {
            return Err(expected());
        }
        Ok(Ipv4Cidr {
            network: u32::from(addr) & Self::mask(prefix),
            prefix,
        })
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

/// An inclusive range of TCP ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// First port.
    pub from: u16,
    /// Last port (inclusive).
    pub to: u16,
}

impl Ports {
    /// HTTPS, what every AWS API endpoint listens on.
    pub const HTTPS: Ports = Ports { from: 443, to: 443 };
    /// The Linux ephemeral range Fargate and ECS-optimized AMIs use for return traffic.
    pub const EPHEMERAL: Ports = Ports {
        from: 32768,
        to: 60999,
    };
    /// Every port.
    pub const ALL: Ports = Ports { from: 0, to: 65535 };

    /// Builds a range from the API's signed numbers, clamping to 0–65535; `None` if empty.
    pub fn clamped(from: i64, to: i64) -> Option<Ports> {
        let clamp = |p: i64| p.clamp(0, 65535) as u16;
        (from <= to && to >= 0 && from <= 65535).then(|| Ports {
            from: clamp(from),
            to: clamp(to),
        })
    }

    /// True when every port of `other` is in `self`.
    pub fn covers(&self, other: Ports) -> bool {
        self.from <= other.from && other.to <= self.to
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn containment_is_strict_about_partial_overlap() {
        let cases = [
            ("10.0.0.0/16", "10.0.1.0/24", true),
            ("10.0.1.0/24", "10.0.0.0/16", false),
            ("0.0.0.0/0", "10.0.1.0/24", true),
            ("10.0.0.0/24", "10.0.0.0/24", true),
            ("10.0.0.0/24", "10.0.1.0/24", false),
            ("10.0.0.0/8", "0.0.0.0/0", false),
        ];
        for (outer, inner, expected) in cases {
            assert_eq!(
                cidr(outer).contains(&cidr(inner)),
                expected,
                "{outer} ⊇ {inner}"
            );
        }
    }

    #[test]
    fn parsing_normalises_host_bits_and_rejects_garbage() {
        assert_eq!(cidr("10.0.1.7/24").to_string(), "10.0.1.0/24");
        for bad in ["10.0.0.0", "10.0.0.0/33", "ten/8", "", "::/0"] {
            assert!(bad.parse::<Ipv4Cidr>().is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn ports_clamp_and_cover() {
        assert_eq!(Ports::clamped(-1, -1), None);
        assert_eq!(Ports::clamped(0, 70000), Some(Ports::ALL));
        assert!(Ports::clamped(400, 500).unwrap().covers(Ports::HTTPS));
        assert!(!Ports::clamped(1024, 65535).unwrap().covers(Ports::HTTPS));
        assert_eq!(Ports::EPHEMERAL.to_string(), "32768-60999");
    }
}
