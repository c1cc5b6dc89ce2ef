//! The client side of `wss://`: verify the server's certificate (system roots, or `--ca FILE`) or,
//! with `--insecure`, knowingly not; indicate the URL's host name (SNI); offer ALPN `http/1.1`, or
//! `h2` alone for HTTP/2 ([`Connector::for_http2`]), which the server must then select.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    pki_types::{CertificateDer, ServerName, UnixTime},
    AlertDescription, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::net::TcpStream;
use tokio_rustls::{client::TlsStream, TlsConnector};

use super::{provider, ALPN_H2, ALPN_HTTP_1_1};

/// What wsspec trusts when it checks a server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// The operating system's root certificates (rustls-native-certs).
    SystemRoots,
    /// The certificates in this PEM file (`--ca`), and only those.
    CaFile(PathBuf),
    /// No verification at all (`--insecure`), for self-signed test servers.
    Insecure,
}

/// Opens TLS connections to servers under test.
#[derive(Clone)]
pub struct Connector {
    connector: TlsConnector,
    trust: Trust,
    /// Offers ALPN `h2` only, and refuses a server that does not select it.
    http2: bool,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector").field("trust", &self.trust).field("http2", &self.http2).finish()
    }
}

impl Connector {
    /// Builds a connector. Errors name the file that could not be read, or say that the system
    /// has no usable root certificate.
    pub fn new(trust: Trust) -> Result<Self, String> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS configuration: {e}"))?;
        let mut config = match &trust {
            Trust::Insecure => builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerification)).with_no_client_auth(),
            Trust::SystemRoots => {
                let mut roots = RootCertStore::empty();
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err("no usable root certificate on this system: give the server's CA with --ca FILE, or --insecure".into());
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            Trust::CaFile(path) => builder.with_root_certificates(roots_from(path)?).with_no_client_auth(),
        };
        config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
        Ok(Self { connector: TlsConnector::from(Arc::new(config)), trust, http2: false })
    }

    /// Builds a connector that trusts exactly `roots`, wsspec's own throw-away CA (the embedded
    /// peers, tests).
    pub fn trusting(roots: &[CertificateDer<'static>]) -> Self {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(roots.iter().cloned());
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
        Self { connector: TlsConnector::from(Arc::new(config)), trust: Trust::CaFile(PathBuf::from("wsspec's throw-away CA")), http2: false }
    }

    /// The same trust, offering ALPN `h2` alone (RFC 9113 §3.2: HTTP/2 over TLS), for WebSockets
    /// over HTTP/2 (RFC 8441 §5, `wss://`). Its [`connect`](Self::connect) fails when the server
    /// does not select `h2`.
    pub fn for_http2(&self) -> Self {
        let mut config = ClientConfig::clone(self.connector.config());
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Self { connector: TlsConnector::from(Arc::new(config)), trust: self.trust.clone(), http2: true }
    }

    /// Whether this connector offers ALPN `h2` alone (see [`for_http2`](Self::for_http2)).
    pub fn offers_http2(&self) -> bool {
        self.http2
    }

    /// One line for the run's summary: how the server's certificate is checked.
    pub fn describe(&self) -> String {
        match &self.trust {
            Trust::SystemRoots => "TLS: the server's certificate is verified against the system's roots".into(),
            Trust::CaFile(path) => format!("TLS: the server's certificate is verified against {}", path.display()),
            Trust::Insecure => "TLS: the server's certificate is NOT verified (--insecure)".into(),
        }
    }

    /// Whether certificates are verified.
    pub fn verifies(&self) -> bool {
        self.trust != Trust::Insecure
    }

    /// What to do when the server's certificate was not trusted, by what it was verified against:
    /// the system's roots (give its CA), or a `--ca` file (which does not hold its issuer).
    pub fn untrusted_hint(&self) -> String {
        match &self.trust {
            Trust::CaFile(path) => format!(
                "{} does not hold the CA that issued the server's certificate: give that CA with --ca FILE (not the server's own certificate, unless self-signed), or --insecure",
                path.display()
            ),
            Trust::SystemRoots | Trust::Insecure => "give the server's CA with --ca FILE, or --insecure".into(),
        }
    }

    /// Completes the TLS handshake on `tcp`, indicating `server_name` (SNI, RFC 6066; an IP
    /// address is checked against the certificate but, as RFC 6066 §3 requires, not indicated).
    /// The error says who failed: the server's certificate, the handshake itself, or (a connector
    /// [`for_http2`](Self::for_http2)) a server that did not select ALPN `h2`.
    pub async fn connect(&self, server_name: &str, tcp: TcpStream) -> Result<TlsStream<TcpStream>, String> {
        let name = ServerName::try_from(server_name.to_string()).map_err(|e| format!("`{server_name}` is not a valid TLS server name: {e}"))?;
        let stream = self.connector.connect(name, tcp).await.map_err(|e| {
            let refused_h2 = matches!(e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()), Some(rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol)));
            if refused_h2 && self.http2 {
                format!("{server_name} refused ALPN `h2` (TLS alert no_application_protocol): it does not offer HTTP/2 over TLS (RFC 9113 §3.2)")
            } else {
                format!("TLS handshake with {server_name}: {e}")
            }
        })?;
        match stream.get_ref().1.alpn_protocol() {
            Some(ALPN_H2) => {}
            _ if !self.http2 => {}
            Some(other) => return Err(format!("{server_name} selected ALPN `{}`, not `h2`: it does not offer HTTP/2 over TLS (RFC 9113 §3.2)", String::from_utf8_lossy(other).escape_debug())),
            None => return Err(format!("{server_name} selected no ALPN protocol, not `h2`: it does not offer HTTP/2 over TLS (RFC 9113 §3.2)")),
        }
        Ok(stream)
    }
}

fn roots_from(path: &Path) -> Result<RootCertStore, String> {
    let certs = super::certs::read_certificates(path)?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("{}: no usable certificate in the file", path.display()));
    }
    Ok(roots)
}

/// `--insecure`: accepts any certificate but still checks the handshake signatures, so the TLS
/// session itself is sound.
#[derive(Debug)]
struct NoVerification;

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn verify_tls13_signature(&self, message: &[u8], cert: &CertificateDer<'_>, dss: &DigitallySignedStruct) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &provider().signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}
