//! The TLS options of `wsspec server` (verifying a `wss://` server) and `wsspec client --tls`
//! (listening with TLS), and what they build.

use std::path::{Path, PathBuf};

use wsspec::tls::{certs, Acceptor, Connector, Trust};

/// `wsspec server`: how a `wss://` server's certificate is checked.
#[derive(Debug, clap::Args)]
pub struct ConnectArgs {
    /// wss://: trust the CA certificates in this PEM file instead of the system's roots.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub ca: Option<PathBuf>,
    /// wss://: do not verify the server's certificate (self-signed test servers); the summary says so.
    #[arg(long)]
    pub insecure: bool,
}

impl ConnectArgs {
    /// The connector for a run; `None` when no URL is `wss://` (then `--ca`/`--insecure` are refused).
    pub fn connector(&self, any_wss: bool) -> Result<Option<Connector>, String> {
        if !any_wss {
            if self.ca.is_some() || self.insecure {
                return Err("--ca and --insecure apply to wss:// servers only".into());
            }
            return Ok(None);
        }
        let trust = match (&self.ca, self.insecure) {
            (_, true) => Trust::Insecure,
            (Some(path), false) => Trust::CaFile(path.clone()),
            (None, false) => Trust::SystemRoots,
        };
        Connector::new(trust).map(Some)
    }
}

/// `wsspec client`: listening with TLS.
#[derive(Debug, clap::Args)]
pub struct ListenArgs {
    /// Listen with TLS (wss://). Without --cert/--key, a throw-away CA and certificate for the listen
    /// address are made at start and the CA is written to OUT/wsspec-ca.pem for the client to trust
    /// (`{ca}` in --exec is its path).
    #[arg(long)]
    pub tls: bool,
    /// With --tls: the server's certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// With --tls: the certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// With --cert/--key: the CA certificate (PEM) the client must trust, given to --exec as `{ca}`
    /// (default: the --cert file itself, for a self-signed certificate).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

/// The file `{ca}` stands for in `wsspec client --exec`: wsspec's throw-away CA, else the
/// operator's `--ca`, else their certificate chain (`cert`). An error when the command uses `{ca}`
/// and there is none (no TLS), or `--ca` is given without an operator's certificate.
pub fn exec_ca(command: Option<&str>, throw_away: Option<&Path>, ca: Option<&Path>, cert: Option<&Path>) -> Result<Option<PathBuf>, String> {
    if let (Some(ca), None) = (ca, cert) {
        return Err(format!("--ca {} names the CA of an operator's certificate (--cert/--key); the throw-away certificate's CA is wsspec's own", ca.display()));
    }
    let file = throw_away.or(ca).or(cert).map(Path::to_path_buf);
    if file.is_none() && command.is_some_and(|c| c.contains("{ca}")) {
        return Err("--exec uses {ca}, but there is no CA to give the client: {ca} needs --tls (wsspec's throw-away CA) or --cert/--key (their --ca, or the certificate chain)".into());
    }
    Ok(file)
}

/// Builds the acceptor for listening on `listen_host` with `cert`/`key`, or throw-away
/// certificates written to `out`. Prints what the client must trust.
pub fn acceptor(listen_host: &str, cert_key: Option<(&Path, &Path)>, out: &Path) -> Result<Acceptor, String> {
    let names = certs::names_for(listen_host);
    match cert_key {
        Some((cert, key)) => {
            let acceptor = Acceptor::from_files(cert, key, &names)?;
            say!("wsspec: TLS with the certificate {}", cert.display());
            Ok(acceptor)
        }
        None => {
            let acceptor = Acceptor::throw_away(&names, out)?;
            if let Some(ca) = acceptor.ca_file() {
                say!("wsspec: TLS with a throw-away certificate for {}; the client must trust the CA {}", names.join(", "), ca.display());
            }
            Ok(acceptor)
        }
    }
}

/// `wsspec tls-cert`: writes `ca.pem`, `cert.pem` and `key.pem` to `dir`; the key readable by its
/// owner only (0600). An existing file of the three is never replaced unless `force`: the error
/// names it, and nothing is written.
pub fn write_certificate(dir: &Path, names: &[String], force: bool) -> Result<(), String> {
    let files = ["ca.pem", "cert.pem", "key.pem"].map(|file| dir.join(file));
    if let Some(existing) = files.iter().find(|path| !force && std::fs::symlink_metadata(path).is_ok()) {
        return Err(format!("{}: already exists; wsspec tls-cert does not replace a CA, certificate or key (--force does)", existing.display()));
    }
    let set = certs::throw_away(names)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (path, text, mode) in [(&files[0], &set.ca_pem, 0o644), (&files[1], &set.good_pem.0, 0o644), (&files[2], &set.good_pem.1, 0o600)] {
        wsspec_reports::fs::write_new(path, text.as_bytes(), mode, force).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    say!("wsspec: {}/cert.pem (key.pem) for {}, signed by the throw-away CA {}/ca.pem", dir.display(), names.join(", "), dir.display());
    Ok(())
}
