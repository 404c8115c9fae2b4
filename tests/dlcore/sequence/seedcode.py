"""Seed 003's two sequence experiments, verbatim except ``.to('cuda')`` (this machine has no GPU).

§dl_3_2 (the LSTM sine predictor) and §dl_4_2 (the GRU on noisy sines), as printed in
``shared/seeds/003_1dbce9a3816ea850.txt``; the tests compare the lab's runs with these, step for step.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset


def dl_3_2(num_epochs: int = 50) -> tuple[list[float], list[float], nn.Module]:
    """§dl_3_2: per-epoch train and test losses, and the model."""
    torch.manual_seed(42)
    np.random.seed(42)
    total_length = 1000
    time_steps = np.linspace(0, 20 * np.pi, total_length)
    data_sequence = np.sin(time_steps) + np.random.normal(0, 0.1, total_length)
    split_idx = int(total_length * 0.8)
    train_data, test_data = data_sequence[:split_idx], data_sequence[split_idx:]

    class SequenceDataset(Dataset):
        def __init__(self, data, seq_length=20):
            self.data = torch.FloatTensor(data)
            self.seq_length = seq_length

        def __len__(self):
            return len(self.data) - self.seq_length

        def __getitem__(self, idx):
            input_seq = self.data[idx:idx + self.seq_length]
            target = self.data[idx + self.seq_length]
            return input_seq.view(self.seq_length, 1), target.view(1)

    train_loader = DataLoader(SequenceDataset(train_data, 20), batch_size=32, shuffle=True, drop_last=True)
    test_loader = DataLoader(SequenceDataset(test_data, 20), batch_size=32, shuffle=False, drop_last=True)

    class LSTMModel(nn.Module):
        def __init__(self, input_size=1, hidden_size=32, output_size=1, num_layers=1):
            super().__init__()
            self.num_layers, self.hidden_size = num_layers, hidden_size
            self.lstm = nn.LSTM(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                                batch_first=True)
            self.linear = nn.Linear(hidden_size, output_size)

        def forward(self, x, hidden=None):
            h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
            c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size)
            x = x.reshape(x.size(0), -1, 1) if x.dim() == 2 else x
            out, hidden = self.lstm(x, (h0, c0))
            return self.linear(out[:, -1, :]), hidden

    model = LSTMModel(1, 64, 1, 1)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    train_losses, test_losses = [], []
    for _ in range(num_epochs):
        model.train()
        total = 0.0
        for inputs, targets in train_loader:
            optimizer.zero_grad()
            outputs, _ = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            total += loss.item()
        train_losses.append(total / len(train_loader))
        model.eval()
        total = 0.0
        with torch.no_grad():
            for inputs, targets in test_loader:
                outputs, _ = model(inputs)
                total += criterion(outputs, targets).item()
        test_losses.append(total / len(test_loader))
    return train_losses, test_losses, model


def dl_4_2(epochs: int = 100) -> tuple[list[float], float, float]:
    """§dl_4_2: per-epoch (full-batch) train losses, test MSE and MAE."""
    np.random.seed(42)
    torch.manual_seed(42)

    def generate_data(num_samples=200, seq_len=20):
        X, y = [], []
        for _ in range(num_samples):
            freq = np.random.uniform(0.5, 1.5)
            phase = np.random.uniform(0, np.pi)
            noise = np.random.normal(0, 0.1, seq_len)
            seq = np.sin(np.linspace(0, 2 * np.pi * freq, seq_len) + phase) + noise
            X.append(seq)
            y.append(seq[-1])
        X = np.expand_dims(np.array(X), axis=2)
        y = np.expand_dims(np.array(y), axis=1)
        return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)

    X, y = generate_data(num_samples=300, seq_len=30)
    train_X, test_X, train_y, test_y = X[:240], X[240:], y[:240], y[240:]

    class GRUNet(nn.Module):
        def __init__(self, input_size, hidden_size, num_layers, output_size, dropout=0.2, bidirectional=False):
            super().__init__()
            self.gru = nn.GRU(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                              dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional,
                              batch_first=True)
            self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

        def forward(self, x):
            out, h = self.gru(x)
            return self.fc(out[:, -1, :])

    model = GRUNet(input_size=1, hidden_size=32, num_layers=1, output_size=1, dropout=0.2, bidirectional=False)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.005)
    train_losses = []
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        output = model(train_X)
        loss = criterion(output, train_y)
        loss.backward()
        optimizer.step()
        train_losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        pred = model(test_X).squeeze().numpy()
        truth = test_y.squeeze().numpy()
    return train_losses, float(np.mean((pred - truth) ** 2)), float(np.mean(np.abs(pred - truth)))
