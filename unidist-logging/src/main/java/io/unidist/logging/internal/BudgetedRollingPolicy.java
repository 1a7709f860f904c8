package io.unidist.logging.internal;

import ch.qos.logback.core.rolling.RolloverFailure;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;

/** Logback's size-and-time policy that applies the shared {@link DiskBudget} after each rollover. */
final class BudgetedRollingPolicy<E> extends SizeAndTimeBasedRollingPolicy<E> {

    private final DiskBudget budget;

    BudgetedRollingPolicy(DiskBudget budget) {
        this.budget = budget;
    }

    @Override
    public void rollover() throws RolloverFailure {
        super.rollover();
        budget.enforce();
    }
}
