//! The two lookups that leave the environment: the container's own IPv4
//! address on an interface, and DNS resolution of the host address.

use std::ffi::CStr;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};

use crate::discovery::DiscoveryError;

/// Interface MaestroNG reads (`netifaces.ifaddresses('eth0')`).
pub const DEFAULT_INTERFACE: &str = "eth0";

/// The first IPv4 address of `interface`, as `get_container_internal_address()`.
pub fn internal_address(interface: &str) -> Result<Ipv4Addr, DiscoveryError> {
    let mut found_interface = false;
    let mut result = None;
    for_each_ifaddr(|name, addr| {
        if name == interface.as_bytes() {
            found_interface = true;
            if result.is_none() {
                result = addr;
            }
        }
    })
    .map_err(|e| DiscoveryError(format!("Cannot list network interfaces: {e}")))?;
    match (result, found_interface) {
        (Some(ip), _) => Ok(ip),
        (None, true) => Err(DiscoveryError(format!(
            "Interface {interface} has no IPv4 address"
        ))),
        (None, false) => Err(DiscoveryError(format!("No interface {interface}"))),
    }
}

/// Calls `f(name, ipv4)` for every entry of `getifaddrs`, `ipv4` being
/// `None` for entries of other families.
fn for_each_ifaddr(mut f: impl FnMut(&[u8], Option<Ipv4Addr>)) -> std::io::Result<()> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list returned by getifaddrs,
        // valid until freeifaddrs; `ifa_name` is a NUL-terminated string and
        // `ifa_addr`, when non-null and of family AF_INET, a sockaddr_in.
        unsafe {
            let entry = &*cursor;
            let name = CStr::from_ptr(entry.ifa_name).to_bytes();
            let addr = entry.ifa_addr;
            let ipv4 = if !addr.is_null() && i32::from((*addr).sa_family) == libc::AF_INET {
                let sin = &*(addr as *const libc::sockaddr_in);
                Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
            } else {
                None
            };
            f(name, ipv4);
            cursor = entry.ifa_next;
        }
    }
    // SAFETY: `head` came from a successful getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(())
}

/// Resolves a host name to its first IPv4 address, as Python's
/// `socket.gethostbyname`. An address literal is returned without a lookup.
pub fn resolve_ipv4(host: &str) -> Result<Ipv4Addr, DiscoveryError> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(ip);
    }
    let failed = |detail: String| {
        DiscoveryError(format!(
            "Cannot resolve container host address {host}: {detail}"
        ))
    };
    let addrs = (host, 0)
        .to_socket_addrs()
        .map_err(|e| failed(e.to_string()))?;
    addrs
        .filter_map(|a| match a {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        })
        .next()
        .ok_or_else(|| failed("no IPv4 address".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_address() {
        assert_eq!(internal_address("lo"), Ok(Ipv4Addr::LOCALHOST));
    }

    #[test]
    fn unknown_interface_is_an_error() {
        assert_eq!(
            internal_address("nosuch0"),
            Err(DiscoveryError("No interface nosuch0".into()))
        );
    }

    #[test]
    fn literals_resolve_to_themselves() {
        assert_eq!(
            resolve_ipv4("10.213.0.11"),
            Ok(Ipv4Addr::new(10, 213, 0, 11))
        );
        assert_eq!(resolve_ipv4("localhost"), Ok(Ipv4Addr::LOCALHOST));
    }
}
