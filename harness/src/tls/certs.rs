//! Certificates for the server side of `wss://`: the operator's (`--cert`/`--key`), or a throw-away
//! set made at start with rcgen — a CA, a certificate for the listen address signed by it, and the
//! three bad certificates the TLS section presents to clients (another name, expired, unknown
//! issuer). Nothing is ever fetched and no key outlives the run (only the CA certificate is written,
//! for the client under test to trust).

use std::{io::Read as _, path::Path};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The name on the wrong-name certificate (`.invalid` never resolves, RFC 6761 §6.4).
pub const WRONG_NAME: &str = "not-this-server.invalid";

/// A certificate chain and its private key.
#[derive(Debug)]
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self { chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

/// The throw-away certificates of one run.
#[derive(Debug, Clone)]
pub struct ThrowAway {
    /// The CA that signed `good`, `wrong_name` and `expired`, for the client to trust.
    pub ca: CertificateDer<'static>,
    pub ca_pem: String,
    /// For the listen address's names, valid now.
    pub good: Identity,
    /// `good` as PEM: the certificate and its private key (PKCS#8), for `wsspec tls-cert`.
    pub good_pem: (String, String),
    /// For [`WRONG_NAME`] only, signed by the same CA.
    pub wrong_name: Identity,
    /// For the right names, signed by the same CA, expired since 2001.
    pub expired: Identity,
    /// For the right names, valid, signed by a CA nobody trusts.
    pub unknown_issuer: Identity,
}

/// The names a certificate for the listen host `host` carries: the host itself and, for a
/// loopback or unspecified address, `localhost` and the loopback addresses (the name the client is given, so that it can send SNI).
pub fn names_for(host: &str) -> Vec<String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut names = vec![host.to_string()];
    let loopback = host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified()) || host == "localhost";
    for name in ["localhost", "127.0.0.1", "::1"] {
        if loopback && !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// Makes a throw-away set for `names`. Errors only if rcgen refuses a name.
pub fn throw_away(names: &[String]) -> Result<ThrowAway, String> {
    let fail = |e: rcgen::Error| format!("cannot make a throw-away certificate: {e}");
    let ca = make_ca("wsspec throw-away CA").map_err(fail)?;
    let stranger = make_ca("wsspec unknown issuer (trusted by nobody)").map_err(fail)?;
    let leaf = |names: Vec<String>, expired: bool, issuer: &CertifiedIssuer<'static, KeyPair>| -> Result<(Identity, (String, String)), rcgen::Error> {
        let mut params = CertificateParams::new(names)?;
        params.distinguished_name.push(DnType::CommonName, "wsspec");
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, issuer)?;
        let pem = (cert.pem(), key.serialize_pem());
        Ok((Identity { chain: vec![cert.der().clone()], key: PrivatePkcs8KeyDer::from(key.serialize_der()).into() }, pem))
    };
    let (good, good_pem) = leaf(names.to_vec(), false, &ca).map_err(fail)?;
    Ok(ThrowAway {
        ca: ca.der().clone(),
        ca_pem: ca.pem(),
        good,
        good_pem,
        wrong_name: leaf(vec![WRONG_NAME.into()], false, &ca).map_err(fail)?.0,
        expired: leaf(names.to_vec(), true, &ca).map_err(fail)?.0,
        unknown_issuer: leaf(names.to_vec(), false, &stranger).map_err(fail)?.0,
    })
}

fn make_ca(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    CertifiedIssuer::self_signed(params, KeyPair::generate()?)
}

/// The largest PEM file read (a certificate chain, a CA bundle, a key), in bytes: 4 MiB, some 20
/// times the system's whole CA bundle.
pub const MAX_PEM_BYTES: u64 = 4 << 20;

/// Reads the PEM file at `path`: a regular file (through links, as certificates are often kept) of
/// at most [`MAX_PEM_BYTES`]; a FIFO, a device or a folder is refused before it is opened, so
/// nothing blocks or reads without end. Errors name the file.
pub fn read_pem(path: &Path) -> Result<Vec<u8>, String> {
    let fail = |what: String| format!("{}: {what}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read PEM: {e}")))?;
    if !meta.is_file() {
        return Err(fail("not a regular file (a FIFO, a device or a folder): give a PEM file".into()));
    }
    if meta.len() > MAX_PEM_BYTES {
        return Err(fail(format!("{} bytes, over the {MAX_PEM_BYTES} bytes read from a PEM file", meta.len())));
    }
    let mut data = Vec::new();
    std::fs::File::open(path).and_then(|file| file.take(MAX_PEM_BYTES + 1).read_to_end(&mut data)).map_err(|e| fail(format!("cannot read PEM: {e}")))?;
    if data.len() as u64 > MAX_PEM_BYTES {
        return Err(fail(format!("grew past the {MAX_PEM_BYTES} bytes read from a PEM file")));
    }
    Ok(data)
}

/// The certificates in the PEM file at `path` ([`read_pem`]), maybe none.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(&read_pem(path)?)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: cannot read PEM certificates: {e}", path.display()))
}

/// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1). Errors name the
/// file and what is wrong with it.
pub fn load(cert: &Path, key: &Path) -> Result<Identity, String> {
    let chain = read_certificates(cert)?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_slice(&read_pem(key)?).map_err(|e| format!("{}: cannot read a PEM private key: {e}", key.display()))?;
    Ok(Identity { chain, key })
}
