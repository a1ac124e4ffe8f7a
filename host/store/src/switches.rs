//! The kill switch, kept in the database so that it survives a restart:
//! a host that was killed starts killed until someone releases it.

use super::connect::{Store, StoreError, timed, with_pool};

impl Store {
    /// When the kill switch was pulled (epoch ms), if it is on.
    pub async fn kill_switch(&self) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "SELECT engaged_at FROM kill_switch WHERE id = 1";
        with_pool!(self, |pool| {
            timed(
                "reading the kill switch",
                sqlx::query_scalar(SQL).fetch_optional(pool),
            )
            .await
        })
    }

    /// Pull the kill switch at `at` (epoch ms); pulling it again keeps the
    /// first time.
    pub async fn engage_kill_switch(&self, at: i64) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO kill_switch (id, engaged_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING";
        with_pool!(self, |pool| {
            let q = sqlx::query(SQL).bind(at);
            timed("pulling the kill switch", q.execute(pool)).await?;
        });
        Ok(())
    }

    /// Release the kill switch; whether it was on.
    pub async fn release_kill_switch(&self) -> Result<bool, StoreError> {
        const SQL: &str = "DELETE FROM kill_switch WHERE id = 1";
        let done = with_pool!(self, |pool| {
            let q = sqlx::query(SQL);
            timed("releasing the kill switch", q.execute(pool))
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }
}
