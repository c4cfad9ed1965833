//! The two lookups that leave the environment: the container's own IPv4
//! address on an interface, and DNS resolution of the host address.

use std::ffi::CStr;
use std::ffi::CString;
use std::net::Ipv4Addr;

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
    let failed = |detail: &str| {
        DiscoveryError(format!(
            "Cannot resolve container host address {host}: {detail}"
        ))
    };
    lookup_ipv4(host).map_err(|e| failed(&e))
}

/// A host name (or address literal) to its first IPv4 address; the error
/// is the resolver's message.
pub fn lookup_ipv4(host: &str) -> Result<Ipv4Addr, String> {
    let name = CString::new(host).map_err(|_| "contains a NUL byte".to_owned())?;
    getaddrinfo_ipv4(&name)
}

/// `getaddrinfo(3)` for IPv4 only, called directly: `ToSocketAddrs` would
/// bring std's address parsing and formatting for a single lookup.
fn getaddrinfo_ipv4(name: &CStr) -> Result<Ipv4Addr, String> {
    // SAFETY: an all-zero addrinfo is the documented "no hints" value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_INET;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `name` is NUL-terminated, `hints` and `list` outlive the call.
    let rc = unsafe { libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if rc != 0 {
        // SAFETY: gai_strerror returns a static NUL-terminated message.
        let message = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) };
        return Err(message.to_string_lossy().into_owned());
    }
    let mut found = None;
    let mut cursor = list;
    while !cursor.is_null() && found.is_none() {
        // SAFETY: `cursor` is a node of the list getaddrinfo returned, valid
        // until freeaddrinfo; an AF_INET entry's address is a sockaddr_in.
        unsafe {
            let entry = &*cursor;
            if entry.ai_family == libc::AF_INET && !entry.ai_addr.is_null() {
                let sin = &*(entry.ai_addr as *const libc::sockaddr_in);
                found = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            }
            cursor = entry.ai_next;
        }
    }
    // SAFETY: `list` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    found.ok_or_else(|| "no IPv4 address".to_owned())
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

    #[test]
    fn a_name_that_cannot_be_looked_up_is_an_error_naming_it() {
        // No lookup is sent for it: tests do not ask the machine's resolver.
        assert_eq!(
            resolve_ipv4("a\0b"),
            Err(DiscoveryError(
                "Cannot resolve container host address a\0b: contains a NUL byte".into()
            ))
        );
    }
}
