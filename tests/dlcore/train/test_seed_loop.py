"""The trainer takes exactly the steps of the seed's own loop (003 §dl_2_3), run verbatim as the oracle."""

import dataclasses

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlcore.data import seed_classification
from dlcore.train.playground import PRESETS, build_playground

EPOCHS = 2


def _seed_loop() -> tuple[list[float], list[float], list[float]]:
    """Seed 003 §dl_2_3, unchanged except for the epoch count and the recorded values."""
    s = seed_classification(5)
    X_train, y_train, X_test, y_test = s.x_train, s.y_train, s.x_test, s.y_test
    torch.manual_seed(123)
    train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True)
    model = nn.Sequential(
        nn.Linear(10, 128), nn.ReLU(), nn.BatchNorm1d(128), nn.Dropout(0.2),
        nn.Linear(128, 64), nn.ReLU(), nn.BatchNorm1d(64), nn.Dropout(0.2),
        nn.Linear(64, 32), nn.ReLU(), nn.BatchNorm1d(32), nn.Dropout(0.2),
        nn.Linear(32, 5))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    step_losses, val_losses, val_accs = [], [], []
    for epoch in range(EPOCHS):
        model.train()
        for batch_x, batch_y in train_loader:
            outputs = model(batch_x)
            loss = criterion(outputs, batch_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step_losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            outputs = model(X_test)
            val_losses.append(criterion(outputs, y_test).item())
            val_accs.append((torch.argmax(outputs, dim=1) == y_test).sum().item() / y_test.size(0))
    return step_losses, val_losses, val_accs


def test_dl_2_3_preset_matches_the_seeds_loop_step_by_step():
    old = torch.get_num_threads()
    torch.set_num_threads(1)  # same thread count as the playground: identical float reductions
    try:
        ref_steps, ref_val, ref_acc = _seed_loop()
    finally:
        torch.set_num_threads(old)
    spec = dataclasses.replace(PRESETS["Seed §dl_2_3: 5-class net, BatchNorm + Dropout, Adam lr 0.05"], epochs=EPOCHS)
    h = build_playground(spec).trainer.fit()
    assert len(h.step_loss) == len(ref_steps) == 25 * EPOCHS
    torch.testing.assert_close(torch.tensor(h.step_loss), torch.tensor(ref_steps))
    torch.testing.assert_close(torch.tensor(h.series("val_loss")), torch.tensor(ref_val))
    assert h.series("val_acc") == ref_acc
