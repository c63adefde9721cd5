//! The first-contact gate of one endpoint: the first opening is awaited by every other one, and
//! once the endpoint proved down the others get that failure at once, so a dead or tarpitting
//! port costs one timeout, not one per check.

use std::future::Future;

use tokio::sync::Mutex;

use super::failure::OpenFailure;

/// Remembers whether an endpoint answered at all.
#[derive(Default)]
pub struct Contact {
    state: Mutex<ContactState>,
}

#[derive(Default)]
enum ContactState {
    #[default]
    Unknown,
    Up,
    Down(OpenFailure),
}

impl Contact {
    /// Whether the endpoint took a connection and greeted (as far as the first contact
    /// showed); false while that is unknown or under way.
    pub fn answered(&self) -> bool {
        self.state
            .try_lock()
            .is_ok_and(|state| matches!(*state, ContactState::Up))
    }

    /// Runs `open`; while the endpoint's first contact is under way the others wait for it,
    /// and once the endpoint proved down they get that failure at once.
    pub async fn open<T>(
        &self,
        open: impl Future<Output = Result<T, OpenFailure>>,
    ) -> Result<T, OpenFailure> {
        let mut state = self.state.lock().await;
        match &*state {
            ContactState::Down(failure) => Err(failure.clone()),
            ContactState::Up => {
                drop(state);
                open.await
            }
            ContactState::Unknown => {
                let result = open.await;
                *state = match &result {
                    Err(failure) if failure.kind.is_endpoint_down() => {
                        ContactState::Down(failure.clone())
                    }
                    _ => ContactState::Up,
                };
                result
            }
        }
    }
}
