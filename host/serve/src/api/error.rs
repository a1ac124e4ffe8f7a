//! [`ApiError`]: a status code and a message, sent as `{"error": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::http::header::WWW_AUTHENTICATE;
use axum::response::{IntoResponse, Response};

use crate::HostError;
use clever_store::RegistryError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// `status` with `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 401.
    pub fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<HostError> for ApiError {
    fn from(e: HostError) -> Self {
        let status = match &e {
            HostError::Refused(_)
            | HostError::Start { .. }
            | HostError::Params { .. }
            | HostError::Swap(_) => StatusCode::UNPROCESSABLE_ENTITY,
            HostError::Registry(RegistryError::Unknown(_)) => StatusCode::NOT_FOUND,
            HostError::Registry(RegistryError::Conflict { .. })
            | HostError::Registry(RegistryError::NoEarlier(_))
            | HostError::AlreadyRunning(_)
            | HostError::NoVenue => StatusCode::CONFLICT,
            HostError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
            HostError::Registry(RegistryError::Store(_)) | HostError::Store(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!("API: {}", self.message);
        }
        let body = Json(serde_json::json!({ "error": self.message }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
