//! The exchange's TLS identity: a self-signed certificate made at start (or
//! one given), which clients are handed as their trust root.

use std::io;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate and its key, DER encoded.
pub struct Identity {
    /// The certificate (give it to clients as their trust root).
    pub certificate: CertificateDer<'static>,
    pem: String,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    /// A new self-signed certificate for `names` (host names or addresses).
    pub fn self_signed(names: &[&str]) -> Result<Identity, rcgen::Error> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let made = rcgen::generate_simple_self_signed(names)?;
        Ok(Identity {
            certificate: made.cert.der().clone(),
            pem: made.cert.pem(),
            key: PrivatePkcs8KeyDer::from(made.key_pair.serialize_der()),
        })
    }

    /// A certificate and PKCS #8 key from PEM text.
    pub fn from_pem(certificate: &[u8], key: &[u8]) -> io::Result<Identity> {
        let bad =
            |what: &str, e| io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"));
        Ok(Identity {
            certificate: CertificateDer::from_pem_slice(certificate)
                .map_err(|e| bad("certificate", e))?,
            pem: String::from_utf8_lossy(certificate).into_owned(),
            key: PrivatePkcs8KeyDer::from_pem_slice(key).map_err(|e| bad("key", e))?,
        })
    }

    /// The certificate as PEM, for a client's trust store.
    pub fn certificate_pem(&self) -> String {
        self.pem.clone()
    }

    /// The server side of TLS with this identity.
    pub fn acceptor(&self) -> io::Result<TlsAcceptor> {
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth().with_single_cert(
                    vec![self.certificate.clone()],
                    PrivateKeyDer::Pkcs8(self.key.clone_key()),
                )
            })
            .map_err(io::Error::other)?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}
