//! TCP connections with a bound on time and an optional local address.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

use super::ProbeError;

/// How every connection of a run is made.
#[derive(Clone, Debug)]
pub struct NetOptions {
    /// Bound on each network operation (connect, each read, each handshake).
    pub timeout: Duration,
    /// Local addresses to connect from (`--bind`, at most one per address family): a
    /// connection uses the one of its peer's family, or none.
    pub bind: Vec<IpAddr>,
}

impl NetOptions {
    /// The local address to connect to `peer` from: the `--bind` of the same family (an IPv4
    /// source cannot reach an IPv6 peer, and the reverse).
    pub fn bind_for(&self, peer: IpAddr) -> Option<IpAddr> {
        self.bind
            .iter()
            .copied()
            .find(|local| local.is_ipv4() == peer.is_ipv4())
    }
}

impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            timeout: Duration::from_secs(10),
            bind: Vec::new(),
        }
    }
}

pub async fn connect(addr: SocketAddr, options: &NetOptions) -> Result<TcpStream, ProbeError> {
    let attempt = async {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if let Some(local) = options.bind_for(addr.ip()) {
            socket.bind(SocketAddr::new(local, 0)).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot bind local address {local}: {e}"))
            })?;
        }
        let stream = socket.connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok::<_, io::Error>(stream)
    };
    match tokio::time::timeout(options.timeout, attempt).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(err)) if err.kind() == io::ErrorKind::ConnectionRefused => Err(ProbeError::Refused),
        Ok(Err(err)) => Err(ProbeError::Connect(err.to_string())),
        Err(_) => Err(ProbeError::Timeout {
            during: "connect".into(),
            after: options.timeout,
        }),
    }
}
