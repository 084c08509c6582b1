//! SMPP over TLS with rustls: the server and client configurations, built from PEM files.
//!
//! - Server side ([`ServerTlsFiles`] → [`acceptor`]): the listener's certificate chain and key;
//!   with `client_ca_file`, every client must present a certificate issued by one of those CAs
//!   (mutual TLS), else the handshake fails.
//! - Client side ([`ClientTlsFiles`] → [`ClientTls`]): the CAs that may sign the SMSC's
//!   certificate (`ca_file`; the Mozilla roots of `webpki-roots` when absent), the name to
//!   check it against and send as SNI, and an optional client certificate and key.
//!
//! Only TLS 1.2 and 1.3 with rustls' safe defaults (ring provider) are offered. Errors name
//! the file and what is wrong with it, so a bad configuration is reported at start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
pub use tokio_rustls::{TlsAcceptor, TlsConnector};

/// A TLS configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds nothing usable.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The pieces do not fit together (e.g. the key does not match the certificate).
    #[error("{0}")]
    Config(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn file_error(path: &Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError::File {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Every certificate in the PEM file `path` (at least one).
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(file_error(path, "no CERTIFICATE in this PEM file"));
    }
    Ok(certs)
}

/// The private key in the PEM file `path` (PKCS#8, PKCS#1 or SEC1).
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| file_error(path, format!("no usable private key: {e}")))
}

fn read_roots(path: &Path) -> Result<rustls::RootCertStore, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in read_certs(path)? {
        roots
            .add(cert)
            .map_err(|e| file_error(path, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// The files of a TLS listener (`[listen.tls]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key of the leaf certificate.
    pub key_file: PathBuf,
    /// PEM CA certificates; when set, clients must present a certificate they issued.
    pub client_ca_file: Option<PathBuf>,
}

/// The rustls server configuration of `files`.
pub fn server_config(files: &ServerTlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = read_certs(&files.cert_file)?;
    let key = read_key(&files.key_file)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &files.client_ca_file {
        Some(ca) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(read_roots(ca)?),
                provider(),
            )
            .build()
            .map_err(|e| file_error(ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder.with_single_cert(certs, key).map_err(|e| {
        TlsError::Config(format!(
            "{} and {}: {e}",
            files.cert_file.display(),
            files.key_file.display()
        ))
    })?;
    Ok(Arc::new(config))
}

/// A TLS acceptor for a listener with `files`.
pub fn acceptor(files: &ServerTlsFiles) -> Result<TlsAcceptor, TlsError> {
    Ok(TlsAcceptor::from(server_config(files)?))
}

/// The files of a client bind with `tls = true`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTlsFiles {
    /// PEM CA certificates that may sign the SMSC's certificate; `None` = the Mozilla roots
    /// (`webpki-roots`).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate chain, for SMSCs that require one.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub key_file: Option<PathBuf>,
}

/// What a client bind needs to speak TLS: the rustls configuration and the server name that
/// is checked against the certificate and sent as SNI.
#[derive(Clone)]
pub struct ClientTls {
    /// The rustls client configuration.
    pub config: Arc<rustls::ClientConfig>,
    /// The name to verify (a DNS name or an IP address) and send as SNI.
    pub server_name: ServerName<'static>,
}

impl ClientTls {
    /// Build from `files`, verifying the SMSC as `server_name`.
    pub fn new(files: &ClientTlsFiles, server_name: &str) -> Result<Self, TlsError> {
        let roots = match &files.ca_file {
            Some(ca) => read_roots(ca)?,
            None => rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_root_certificates(roots);
        let config = match (&files.cert_file, &files.key_file) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(read_certs(cert)?, read_key(key)?)
                .map_err(|e| {
                    TlsError::Config(format!("{} and {}: {e}", cert.display(), key.display()))
                })?,
            (None, None) => builder.with_no_client_auth(),
            _ => {
                return Err(TlsError::Config(
                    "a client certificate needs both its certificate and its key file".into(),
                ))
            }
        };
        let server_name = ServerName::try_from(server_name.to_string())
            .map_err(|e| TlsError::Config(format!("server name {server_name:?}: {e}")))?;
        Ok(ClientTls {
            config: Arc::new(config),
            server_name,
        })
    }

    /// A connector for this configuration.
    pub fn connector(&self) -> TlsConnector {
        TlsConnector::from(self.config.clone())
    }
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for ClientTls {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.config, &other.config) && self.server_name == other.server_name
    }
}

impl Eq for ClientTls {}
